package expandcontract

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Result reports one Expand, Contract or Rollback.
type Result struct {
	Schema        string        `json:"schema"`
	VersionSchema string        `json:"version_schema"`
	OldSchema     string        `json:"old_schema"`
	Phase         string        `json:"phase"`
	Migrations    []string      `json:"migrations"`
	Ran           int           `json:"actions_run"`
	Skipped       int           `json:"actions_skipped"`
	Resumed       bool          `json:"resumed"`
	NothingToDo   bool          `json:"nothing_to_do,omitempty"`
	Verify        *VerifyReport `json:"verify,omitempty"`
	Warnings      []string      `json:"warnings,omitempty"`
}

func newResult(v *versionRow) *Result {
	r := &Result{Schema: v.Schema, VersionSchema: v.VersionSchema, OldSchema: v.OldSchema, Phase: v.Status}
	for _, m := range v.Migrations {
		r.Migrations = append(r.Migrations, m.Name)
	}
	return r
}

// PlanExpand plans migrations against the live schema without changing anything.
func PlanExpand(ctx context.Context, pool *pgxpool.Pool, migs []*Migration, opts Options) (*Plan, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	snap, err := LoadSnapshot(ctx, pool, opts.Schema)
	if err != nil {
		return nil, err
	}
	old := opts.Schema
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('tidemark.ec_versions') IS NOT NULL`).Scan(&exists); err == nil && exists {
		if old, err = currentSchema(ctx, pool, opts.Schema); err != nil {
			return nil, err
		}
	}
	return NewPlan(opts.Dialect, snap, old, migs)
}

// Expand starts migrations as one new version (or resumes an interrupted
// expand of the same migrations): both versions are live when it returns.
func Expand(ctx context.Context, pool *pgxpool.Pool, migs []*Migration, opts Options) (*Result, error) {
	opts, unlock, err := beginRun(ctx, pool, opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, resumed, err := startOrResume(ctx, pool, migs, opts)
	if err != nil {
		return nil, err
	}
	plan, err := v.plan(opts.Dialect)
	if err != nil {
		return nil, err
	}
	res := newResult(v)
	res.Resumed, res.Warnings = resumed, plan.Warnings
	c := v.coordinator(pool, opts, "expand")
	if res.Ran, res.Skipped, err = c.run(ctx, plan.Expand); err != nil {
		return res, err
	}
	if v.Status == PhaseExpanding {
		if err := setStatus(ctx, pool, v, PhaseExpanded); err != nil {
			return res, err
		}
	}
	res.Phase = v.Status
	if opts.Verify {
		if res.Verify, err = RunVerify(ctx, pool, plan); err == nil && res.Verify.Mismatches > 0 {
			err = &VerifyError{Report: res.Verify}
		}
	}
	return res, err
}

func startOrResume(ctx context.Context, pool *pgxpool.Pool, migs []*Migration, opts Options) (*versionRow, bool, error) {
	v, err := activeVersion(ctx, pool, opts.Schema)
	if err != nil {
		return nil, false, err
	}
	if v != nil {
		if !sameNames(v.Migrations, migs) {
			return nil, false, fmt.Errorf("%w: %w: version %s (%s) is %s: contract or roll it back first",
				errkind.ErrPrecondition, ErrVersionActive, v.VersionSchema, names(v.Migrations), v.Status)
		}
		if v.Status != PhaseExpanding && v.Status != PhaseExpanded {
			return nil, false, fmt.Errorf("%w: %w: version %s is %s: run tidemark %s", errkind.ErrPrecondition,
				ErrVersionActive, v.VersionSchema, v.Status, map[string]string{PhaseContracting: "contract", PhaseRollingBack: "rollback"}[v.Status])
		}
		return v, true, nil
	}
	snap, err := LoadSnapshot(ctx, pool, opts.Schema)
	if err != nil {
		return nil, false, err
	}
	old, err := currentSchema(ctx, pool, opts.Schema)
	if err != nil {
		return nil, false, err
	}
	plan, err := NewPlan(opts.Dialect, snap, old, migs)
	if err != nil {
		return nil, false, err
	}
	v, err = insertVersion(ctx, pool, plan, migs, snap)
	return v, false, err
}

func sameNames(a, b []*Migration) bool {
	return names(a) == names(b)
}

func names(ms []*Migration) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += ", "
		}
		s += m.Name
	}
	return s
}

// lockWait is how long a run waits for the per-schema lock.
const lockWait = 3 * time.Second

// lockRun takes the per-schema expand/contract advisory lock on a pinned
// connection for the whole run, after making sure the state tables exist.
func lockRun(ctx context.Context, pool *pgxpool.Pool, schema string) (func(), error) {
	if err := ensureState(ctx, pool); err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	h := fnv.New32a()
	h.Write([]byte(schema))
	// A run killed a moment ago may still hold the lock until its server
	// session notices; wait a little before calling the lock busy.
	var ok bool
	for deadline := time.Now().Add(lockWait); ; {
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, int32(0x74636563), int32(h.Sum32())).Scan(&ok); err != nil {
			conn.Release()
			return nil, err
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !ok {
		conn.Release()
		return nil, fmt.Errorf("%w: %w (schema %s)", errkind.ErrTemporary, ErrBusy, schema)
	}
	return func() {
		conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1, $2)`, int32(0x74636563), int32(h.Sum32())) //nolint:errcheck
		conn.Release()
	}, nil
}
