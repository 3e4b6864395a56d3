package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// Create records a restore point (idempotent by label): preconditions, base
// backup (when asked), table snapshot (when asked), marker, archive wait,
// manifest.
func (p *Provider) Create(ctx context.Context, o pitr.CreateOptions) (*pitr.Manifest, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.BaseBackup == pitr.BackupNative {
		return nil, errkind.Usagef("--base-backup backup is for CockroachDB: use pg_basebackup or command on PostgreSQL")
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('tidemark.pitr:' || $1))`, o.Label); err != nil {
		return nil, fmt.Errorf("lock label: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('tidemark.pitr:' || $1))`, o.Label) //nolint:errcheck
	m, err := p.Get(ctx, o.Label)
	if err == nil {
		m.Existing = true
		return m, nil
	}
	if !errors.Is(err, pitr.ErrNotFound) {
		return nil, err
	}
	return p.create(ctx, o)
}

func (p *Provider) create(ctx context.Context, o pitr.CreateOptions) (*pitr.Manifest, error) {
	t0 := time.Now()
	m := &pitr.Manifest{Label: o.Label, Database: p.u.String(), Engine: "postgres", Timings: pitr.Timings{}}
	s, err := p.serverInfo(ctx)
	if err != nil {
		return nil, err
	}
	m.ServerVersion = s.Version
	if err := p.preconditions(ctx, s); err != nil {
		return nil, err
	}
	m.Timings["preconditions"] = pitr.Lap(&t0)
	if _, err := p.takeBaseBackup(ctx, o); err != nil {
		return nil, err
	}
	m.Timings["base_backup"] = pitr.Lap(&t0)
	if m.BaseBackup, err = p.latestBaseBackup(ctx, "FFFFFFFF/FFFFFFFF"); err != nil {
		return nil, err
	}
	if m.BaseBackup == nil {
		return nil, errkind.Preconditionf("no base backup older than the marker is recorded: take one with --base-backup pg_basebackup --backup-dir DIR (or --base-backup command --backup-command '...')")
	}
	if len(o.Tables) > 0 {
		tables, err := p.resolveTables(ctx, o.Tables)
		if err != nil {
			return nil, err
		}
		if m.SnapshotStore, m.Tables, err = p.snapshotTables(ctx, o.Label, tables, o.Parallel, o.TableDir); err != nil {
			return nil, err
		}
		m.Timings["table_snapshot"] = pitr.Lap(&t0)
	}
	m.CreatedAt = time.Now().UTC()
	if m.Position, err = p.markPoint(ctx, o.Label, s.ArchiveDir); err != nil {
		return nil, err
	}
	m.Timings["mark"] = pitr.Lap(&t0)
	if err := p.waitArchived(ctx, m.Position.WALFile, s.ArchiveDir, o.ArchiveWaitTimeout); err != nil {
		return nil, err
	}
	m.Position.Archived = true
	m.Timings["archive_wait"] = pitr.Lap(&t0)
	m.Requirements = requirements(m)
	if err := p.save(ctx, m); err != nil {
		return nil, err
	}
	p.log.Info("snapshot created", "label", m.Label, "lsn", m.Position.LSN, "wal", m.Position.WALFile)
	return m, nil
}

func requirements(m *pitr.Manifest) []string {
	r := []string{
		fmt.Sprintf("base backup %s (%s, start LSN %s)", m.BaseBackup.ID, m.BaseBackup.Method, m.BaseBackup.StartLSN),
		fmt.Sprintf("archived WAL from the base backup's start through %s (timeline %d)", m.Position.WALFile, m.Position.Timeline),
		fmt.Sprintf("recovery_target_name = '%s', recovery_target_action = 'promote'", m.Position.RestorePoint),
	}
	if m.Position.ArchiveDir != "" {
		r = append(r, "restore_command = 'cp "+m.Position.ArchiveDir+"/%f %p'")
	}
	if m.BaseBackup.Dir != "" {
		r = append(r, "base backup directory "+m.BaseBackup.Dir)
	}
	if m.SnapshotStore != "" {
		r = append(r, "table copies in "+m.SnapshotStore+" (for restore --tables)")
	}
	return r
}
