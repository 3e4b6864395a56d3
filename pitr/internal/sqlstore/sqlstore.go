// Package sqlstore keeps snapshot manifests in tidemark.pitr_snapshots, for
// the PostgreSQL-wire providers (PostgreSQL and CockroachDB).
package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/state"
	"github.com/tidemark/tidemark/pitr"
)

// Component is the pitr part of the tidemark state schema (valid SQL on
// PostgreSQL and CockroachDB).
var Component = state.Component{Name: "pitr", Steps: []string{
	`CREATE TABLE tidemark.pitr_snapshots (
		label      text PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now(),
		manifest   jsonb NOT NULL)`,
	`CREATE TABLE tidemark.pitr_base_backups (
		id         text PRIMARY KEY,
		taken_at   timestamptz NOT NULL DEFAULT now(),
		start_lsn  text NOT NULL,
		info       jsonb NOT NULL)`,
}}

// DB is what the store needs: a pool or a connection.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Save records m unless its label is already recorded.
func Save(ctx context.Context, db DB, m *pitr.Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	_, err = db.Exec(ctx, `INSERT INTO tidemark.pitr_snapshots(label, created_at, manifest) VALUES ($1, $2, $3)
		ON CONFLICT (label) DO NOTHING`, m.Label, m.CreatedAt, b)
	if err != nil {
		return fmt.Errorf("save manifest: %w", err)
	}
	return nil
}

// Update replaces the manifest recorded for m.Label (Save keeps the first).
func Update(ctx context.Context, db DB, m *pitr.Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if _, err := db.Exec(ctx, `UPDATE tidemark.pitr_snapshots SET manifest = $2 WHERE label = $1`, m.Label, b); err != nil {
		return fmt.Errorf("save manifest: %w", err)
	}
	return nil
}

// Get returns the manifest recorded for label, or an error wrapping
// pitr.ErrNotFound (a usage error).
func Get(ctx context.Context, db DB, label string) (*pitr.Manifest, error) {
	var b []byte
	err := db.QueryRow(ctx, `SELECT manifest FROM tidemark.pitr_snapshots WHERE label = $1`, label).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errkind.Usagef("%w: no snapshot labelled %q (see `tidemark snapshot list`)", pitr.ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return decode(b)
}

// List returns every recorded manifest, oldest first.
func List(ctx context.Context, db DB) ([]*pitr.Manifest, error) {
	rows, err := db.Query(ctx, `SELECT manifest FROM tidemark.pitr_snapshots ORDER BY created_at, label`)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	bs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := make([]*pitr.Manifest, 0, len(bs))
	for _, b := range bs {
		m, err := decode(b)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func decode(b []byte) (*pitr.Manifest, error) {
	var m pitr.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	return &m, nil
}
