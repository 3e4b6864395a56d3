package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/pitr"
	"github.com/tidemark/tidemark/pitr/internal/sqlstore"
)

func (p *Provider) save(ctx context.Context, m *pitr.Manifest) error {
	return sqlstore.Save(ctx, p.pool, m)
}

// update replaces the recorded manifest of m.Label (save keeps the first).
func (p *Provider) update(ctx context.Context, m *pitr.Manifest) error {
	return sqlstore.Update(ctx, p.pool, m)
}

// Get returns the manifest recorded for label.
func (p *Provider) Get(ctx context.Context, label string) (*pitr.Manifest, error) {
	return sqlstore.Get(ctx, p.pool, label)
}

// List returns every recorded manifest, oldest first.
func (p *Provider) List(ctx context.Context) ([]*pitr.Manifest, error) {
	return sqlstore.List(ctx, p.pool)
}

func (p *Provider) saveBaseBackup(ctx context.Context, bb *pitr.BaseBackup) error {
	b, err := json.Marshal(bb)
	if err != nil {
		return err
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO tidemark.pitr_base_backups(id, taken_at, start_lsn, info) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET info = excluded.info`, bb.ID, bb.TakenAt, bb.StartLSN, b)
	if err != nil {
		return fmt.Errorf("record base backup: %w", err)
	}
	return nil
}

// latestBaseBackup returns the newest recorded base backup that started at
// or before lsn, or nil.
func (p *Provider) latestBaseBackup(ctx context.Context, lsn string) (*pitr.BaseBackup, error) {
	var b []byte
	err := p.pool.QueryRow(ctx, `SELECT info FROM tidemark.pitr_base_backups
		WHERE start_lsn::pg_lsn <= $1::pg_lsn ORDER BY start_lsn::pg_lsn DESC, taken_at DESC LIMIT 1`, lsn).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find base backup: %w", err)
	}
	var bb pitr.BaseBackup
	if err := json.Unmarshal(b, &bb); err != nil {
		return nil, fmt.Errorf("decode base backup: %w", err)
	}
	return &bb, nil
}
