package reconcile

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/state"
)

// Component is reconcile's part of the tidemark state schema.
var Component = state.Component{Name: "reconcile", Steps: []string{
	`CREATE TABLE tidemark.reconcile_runs (
		run_id      text PRIMARY KEY,
		rules_hash  text NOT NULL,
		rules_file  text NOT NULL,
		status      text NOT NULL DEFAULT 'running',
		cuts        jsonb NOT NULL DEFAULT '{}',
		summary     jsonb,
		started_at  timestamptz NOT NULL DEFAULT now(),
		finished_at timestamptz)`,
	`CREATE TABLE tidemark.reconcile_checkpoints (
		run_id    text NOT NULL REFERENCES tidemark.reconcile_runs ON DELETE CASCADE,
		invariant text NOT NULL,
		range_no  int NOT NULL,
		result    jsonb NOT NULL,
		done_at   timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (run_id, invariant, range_no))`,
	`CREATE TABLE tidemark.reconcile_ledger (
		idempotency_key text PRIMARY KEY,
		plan_hash   text NOT NULL,
		invariant   text NOT NULL,
		kind        text NOT NULL,
		key         text NOT NULL,
		action      jsonb NOT NULL,
		status      text NOT NULL,
		applied_by  text NOT NULL,
		applied_on  text NOT NULL,
		created_at  timestamptz NOT NULL DEFAULT now(),
		applied_at  timestamptz)`,
	`CREATE TABLE tidemark.reconcile_audit (
		id          bigserial PRIMARY KEY,
		plan_hash   text NOT NULL,
		os_user     text NOT NULL,
		host        text NOT NULL,
		actions     int NOT NULL,
		applied     int NOT NULL,
		skipped     int NOT NULL,
		stale       int NOT NULL,
		amount      bigint NOT NULL,
		result      jsonb NOT NULL,
		started_at  timestamptz NOT NULL,
		finished_at timestamptz NOT NULL DEFAULT now())`,
}}

// stateURL returns the state database: explicit, else the first
// PostgreSQL/CockroachDB source's database.
func stateURL(rules *Rules, explicit string) (string, error) {
	if explicit != "" {
		u, err := dburl.Parse(explicit, "")
		if err != nil {
			return "", err
		}
		if u.Engine == dburl.Mongo {
			return "", errkind.Usagef("--state-url must be a PostgreSQL or CockroachDB database")
		}
		return u.PGX(), nil
	}
	for _, s := range rules.Sources {
		if s.URL.Engine != dburl.Mongo {
			return s.URL.PGX(), nil
		}
	}
	return "", nil
}

func openStatePool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("state database: %w", dburl.RedactError(err))
	}
	if err := state.Ensure(ctx, pool, Component); err != nil {
		pool.Close()
		return nil, dburl.RedactError(err)
	}
	return pool, nil
}

// runState records a Check run and its range checkpoints; a nil *runState
// (no state database) records nothing.
type runState struct {
	pool    *pgxpool.Pool
	runID   string
	resumed bool
}

// openState resumes the newest unfinished run of the same rules, or starts one.
func openState(ctx context.Context, rules *Rules, opts CheckOptions) (*runState, error) {
	if opts.NoState {
		return nil, nil
	}
	url, err := stateURL(rules, opts.StateURL)
	if err != nil || url == "" {
		return nil, err
	}
	pool, err := openStatePool(ctx, url)
	if err != nil {
		return nil, err
	}
	s := &runState{pool: pool}
	err = pool.QueryRow(ctx, `SELECT run_id FROM tidemark.reconcile_runs WHERE rules_hash = $1 AND status = 'running'
		ORDER BY started_at DESC LIMIT 1`, rules.Hash).Scan(&s.runID)
	switch {
	case err == nil:
		s.resumed = true
		opts.Logger.Info("resuming an unfinished run", "run", s.runID)
		return s, nil
	case !errors.Is(err, pgx.ErrNoRows):
		pool.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.runID = hex.EncodeToString(b[:])
	if _, err := pool.Exec(ctx, `INSERT INTO tidemark.reconcile_runs(run_id, rules_hash, rules_file) VALUES ($1, $2, $3)`,
		s.runID, rules.Hash, rules.File); err != nil {
		pool.Close()
		return nil, fmt.Errorf("state: %w", err)
	}
	return s, nil
}

func (s *runState) close() {
	if s != nil {
		s.pool.Close()
	}
}

// cuts returns the run's range cuts of an invariant, computing and storing
// them the first time.
func (s *runState) cuts(ctx context.Context, inv string, compute func() ([][]any, error)) ([][]any, error) {
	if s == nil {
		return compute()
	}
	var raw []byte
	err := s.pool.QueryRow(ctx, `SELECT cuts -> $2 FROM tidemark.reconcile_runs WHERE run_id = $1`, s.runID, inv).Scan(&raw)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if len(raw) > 0 && string(raw) != "null" {
		var cuts [][]any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		return cuts, d.Decode(&cuts)
	}
	cuts, err := compute()
	if err != nil {
		return nil, err
	}
	js := make([][]any, len(cuts))
	for i, c := range cuts {
		js[i] = jsonValues(c)
	}
	_, err = s.pool.Exec(ctx, `UPDATE tidemark.reconcile_runs SET cuts = cuts || jsonb_build_object($2::text, $3::jsonb) WHERE run_id = $1`, s.runID, inv, js)
	return cuts, err
}

func jsonValues(vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		if u, ok := v.([16]byte); ok {
			v = UUID(u).String()
		}
		out[i] = v
	}
	return out
}

func (s *runState) doneRanges(ctx context.Context, inv string) (map[int]*rangeResult, error) {
	out := map[int]*rangeResult{}
	if s == nil || !s.resumed {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT range_no, result FROM tidemark.reconcile_checkpoints WHERE run_id = $1 AND invariant = $2`, s.runID, inv)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var no int
		var raw []byte
		if err := rows.Scan(&no, &raw); err != nil {
			return nil, err
		}
		res := &rangeResult{}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(res); err != nil {
			return nil, fmt.Errorf("state: checkpoint %s/%d: %w", inv, no, err)
		}
		out[no] = res
	}
	return out, rows.Err()
}

func (s *runState) saveRange(ctx context.Context, inv string, no int, res *rangeResult) error {
	if s == nil {
		return nil
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO tidemark.reconcile_checkpoints(run_id, invariant, range_no, result) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, s.runID, inv, no, res)
	if err != nil {
		return fmt.Errorf("state: checkpoint: %w", err)
	}
	return nil
}

func (s *runState) finish(ctx context.Context, r *Report) error {
	if s == nil {
		return nil
	}
	summary := map[string]any{"breaks": len(r.Breaks), "in_flight": len(r.InFlight), "invariants": r.Counts}
	_, err := s.pool.Exec(ctx, `UPDATE tidemark.reconcile_runs SET status = 'finished', finished_at = now(), summary = $2 WHERE run_id = $1`, s.runID, summary)
	if err != nil {
		return fmt.Errorf("state: finish run: %w", err)
	}
	return nil
}
