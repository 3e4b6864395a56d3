package expandcontract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/internal/state"
)

// Component is expand/contract's part of the tidemark state schema.
var Component = state.Component{Name: "expandcontract", Steps: []string{
	`CREATE TABLE tidemark.ec_versions (
		id             bigserial PRIMARY KEY,
		schema_name    text NOT NULL,
		version_schema text NOT NULL,
		old_schema     text NOT NULL,
		status         text NOT NULL,
		migrations     jsonb NOT NULL,
		snapshot       jsonb NOT NULL,
		started_at     timestamptz NOT NULL DEFAULT now(),
		updated_at     timestamptz NOT NULL DEFAULT now(),
		finished_at    timestamptz)`,
	`CREATE UNIQUE INDEX ec_versions_one_active ON tidemark.ec_versions (schema_name)
		WHERE status NOT IN ('contracted', 'rolled_back')`,
	`CREATE TABLE tidemark.ec_actions (
		version_id bigint NOT NULL REFERENCES tidemark.ec_versions (id),
		phase      text NOT NULL,
		action_id  text NOT NULL,
		done_at    timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (version_id, phase, action_id))`,
}}

// Phases of a version, as stored in tidemark.ec_versions.status.
const (
	PhaseExpanding   = "expanding"
	PhaseExpanded    = "expanded"
	PhaseContracting = "contracting"
	PhaseContracted  = "contracted"
	PhaseRollingBack = "rolling_back"
	PhaseRolledBack  = "rolled_back"
)

type versionRow struct {
	ID            int64
	Schema        string
	VersionSchema string
	OldSchema     string
	Status        string
	Migrations    []*Migration
	Snapshot      *Snapshot
	StartedAt     time.Time
	UpdatedAt     time.Time
}

func ensureState(ctx context.Context, pool *pgxpool.Pool) error {
	if err := state.Ensure(ctx, pool, Component); err != nil {
		return err
	}
	return state.Ensure(ctx, pool, backfill.Component)
}

const versionCols = `id, schema_name, version_schema, old_schema, status, migrations, snapshot, started_at, updated_at`

func scanVersion(row pgx.Row) (*versionRow, error) {
	v := &versionRow{}
	var migs, snap []byte
	if err := row.Scan(&v.ID, &v.Schema, &v.VersionSchema, &v.OldSchema, &v.Status, &migs, &snap, &v.StartedAt, &v.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(snap, &v.Snapshot); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	var stored []*Migration
	if err := json.Unmarshal(migs, &stored); err != nil {
		return nil, fmt.Errorf("decode migrations: %w", err)
	}
	for _, m := range stored {
		pm, err := Parse(m.File, []byte(m.Source))
		if err != nil {
			return nil, fmt.Errorf("stored migration %s: %w", m.Name, err)
		}
		pm.Name, pm.VersionSchema = m.Name, m.VersionSchema
		v.Migrations = append(v.Migrations, pm)
	}
	return v, nil
}

// activeVersion returns the version not yet contracted or rolled back, or nil.
func activeVersion(ctx context.Context, q querier, schema string) (*versionRow, error) {
	v, err := scanVersion(q.QueryRow(ctx, `SELECT `+versionCols+` FROM tidemark.ec_versions
		WHERE schema_name = $1 AND status NOT IN ('contracted', 'rolled_back')`, schema))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return v, err
}

// currentSchema is the schema old clients use: the last contracted
// version's schema if it still exists, else the base schema itself.
func currentSchema(ctx context.Context, q querier, schema string) (string, error) {
	var vs string
	err := q.QueryRow(ctx, `SELECT v.version_schema FROM tidemark.ec_versions v
		JOIN pg_namespace n ON n.nspname = v.version_schema
		WHERE v.schema_name = $1 AND v.status = 'contracted' ORDER BY v.id DESC LIMIT 1`, schema).Scan(&vs)
	if errors.Is(err, pgx.ErrNoRows) {
		return schema, nil
	}
	return vs, err
}

func insertVersion(ctx context.Context, pool *pgxpool.Pool, plan *Plan, migs []*Migration, snap *Snapshot) (*versionRow, error) {
	mj, err := json.Marshal(migs)
	if err != nil {
		return nil, err
	}
	sj, err := json.Marshal(snap)
	if err != nil {
		return nil, err
	}
	return scanVersion(pool.QueryRow(ctx, `INSERT INTO tidemark.ec_versions
		(schema_name, version_schema, old_schema, status, migrations, snapshot)
		VALUES ($1, $2, $3, 'expanding', $4, $5) RETURNING `+versionCols,
		plan.Schema, plan.VersionSchema, plan.OldSchema, mj, sj))
}

func setStatus(ctx context.Context, pool *pgxpool.Pool, v *versionRow, status string) error {
	fin := status == PhaseContracted || status == PhaseRolledBack
	_, err := pool.Exec(ctx, `UPDATE tidemark.ec_versions SET status = $2, updated_at = now(),
		finished_at = CASE WHEN $3 THEN now() END WHERE id = $1`, v.ID, status, fin)
	if err == nil {
		v.Status = status
	}
	return err
}

func doneActions(ctx context.Context, pool *pgxpool.Pool, id int64, phase string) (map[string]bool, error) {
	rows, err := pool.Query(ctx, `SELECT action_id FROM tidemark.ec_actions WHERE version_id = $1 AND phase = $2`, id, phase)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := map[string]bool{}
	for _, s := range ids {
		out[s] = true
	}
	return out, err
}

const markDone = `INSERT INTO tidemark.ec_actions (version_id, phase, action_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`
