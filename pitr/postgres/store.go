package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

func (p *Provider) save(ctx context.Context, m *pitr.Manifest) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	_, err = p.pool.Exec(ctx, `INSERT INTO tidemark.pitr_snapshots(label, created_at, manifest) VALUES ($1, $2, $3)
		ON CONFLICT (label) DO NOTHING`, m.Label, m.CreatedAt, b)
	if err != nil {
		return fmt.Errorf("save manifest: %w", err)
	}
	return nil
}

// Get returns the manifest recorded for label.
func (p *Provider) Get(ctx context.Context, label string) (*pitr.Manifest, error) {
	var b []byte
	err := p.pool.QueryRow(ctx, `SELECT manifest FROM tidemark.pitr_snapshots WHERE label = $1`, label).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errkind.Usagef("%w: no snapshot labelled %q (see `tidemark snapshot list`)", pitr.ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return decode(b)
}

// List returns every recorded manifest, oldest first.
func (p *Provider) List(ctx context.Context) ([]*pitr.Manifest, error) {
	rows, err := p.pool.Query(ctx, `SELECT manifest FROM tidemark.pitr_snapshots ORDER BY created_at, label`)
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
