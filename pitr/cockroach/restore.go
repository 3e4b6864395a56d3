package cockroach

import (
	"context"
	"fmt"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// Restore restores the database from the snapshot's backup as of the
// marker under a new name, checks the covered tables, and swaps names: the
// live database is kept as <db>_before_restore_<time>. Without a backup it
// says how to read the data AS OF SYSTEM TIME instead.
func (p *Provider) Restore(ctx context.Context, label string, o pitr.RestoreOptions) (*pitr.RestoreResult, error) {
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	if m.BaseBackup == nil {
		return nil, errkind.Usagef("%w: snapshot %q has no backup: read its data with SELECT ... AS OF SYSTEM TIME '%s' (until %s), or create snapshots with --base-backup backup",
			pitr.ErrUnsupported, label, m.Position.HLC, m.Position.RestorableUntil.Format(time.RFC3339))
	}
	if len(o.Tables) > 0 || o.AllTables || o.TargetDir != "" {
		return nil, errkind.Usagef("%w: CockroachDB restores the whole database (no --tables, no --target-dir)", pitr.ErrUnsupported)
	}
	t0 := time.Now()
	db := p.u.Database()
	restored := pitr.StoreName("tmrestore_", label)
	if err := p.restoreAs(ctx, m, restored); err != nil {
		return nil, err
	}
	res := &pitr.RestoreResult{Label: label, Mode: "database", Timings: pitr.Timings{"restore": pitr.Lap(&t0)}}
	if err := p.compare(ctx, m.Tables, "", restored); err != nil {
		return nil, errkind.Problemsf("restored database %s does not match the manifest (left in place): %w", restored, err)
	}
	old := fmt.Sprintf("%s_before_restore_%s", db, time.Now().UTC().Format("20060102150405"))
	if err := p.swap(ctx, db, restored, old); err != nil {
		return nil, err
	}
	res.Timings["swap"] = pitr.Lap(&t0)
	res.Tables = m.Tables
	res.URL = dburl.Redact(p.u.Raw)
	res.SwitchOver = []string{fmt.Sprintf("database %s now holds the data as of %s; the previous data is in %s (drop it when done)", db, m.Position.HLC, old)}
	return res, nil
}

// restoreAs runs RESTORE ... AS OF SYSTEM TIME the marker WITH new_db_name.
func (p *Provider) restoreAs(ctx context.Context, m *pitr.Manifest, name string) error {
	if _, err := p.pool.Exec(ctx, RestoreSQL(p.u.Database(), m.BaseBackup.Location, m.Position.HLC, name)); err != nil {
		return fmt.Errorf("restore into %s: %w", name, err)
	}
	return nil
}

// swap renames live -> old and restored -> live on a session whose current
// database is neither.
func (p *Provider) swap(ctx context.Context, live, restored, old string) error {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	for _, q := range []string{UseSQL("system"), RenameSQL(live, old), RenameSQL(restored, live), UseSQL(live)} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("swap databases (%s): %w", q, err)
		}
	}
	return nil
}
