package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
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
	if o.RestoreCommand != "" {
		if err := checkRestoreTemplate(o.RestoreCommand); err != nil {
			return nil, err
		}
	}
	if err := p.checkGivenArchiveDir(); err != nil {
		return nil, err
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
	switch {
	case err == nil && m.Position.LSN == "":
		// killed around the marker: a point of that name may exist
		// unrecorded, so this attempt marks under a new name
		return p.create(ctx, o, nextPointName(o.Label, m.Position.RestorePoint))
	case err == nil && !m.Position.Archived:
		return p.resume(ctx, m, o.ArchiveWaitTimeout)
	case err == nil:
		m.Existing = true
		return m, nil
	case !errors.Is(err, pitr.ErrNotFound):
		return nil, err
	}
	return p.create(ctx, o, "")
}

// markerRecorded refuses a snapshot whose create was interrupted before its
// restore point was recorded.
func markerRecorded(m *pitr.Manifest) error {
	if m.Position.LSN == "" {
		return errkind.Preconditionf("snapshot %q is incomplete (its create was interrupted around the restore point): run the same snapshot create again", m.Label)
	}
	return nil
}

// nextPointName names a retried marker: label.2, label.3, ...
func nextPointName(label, last string) string {
	n, err := strconv.Atoi(strings.TrimPrefix(last, label+"."))
	if err != nil || last == label {
		n = 1
	}
	return fmt.Sprintf("%s.%d", label, n+1)
}

// create takes a new snapshot; retry, when set, is the restore point name
// of an attempt after an interrupted one (whose intent is recorded).
func (p *Provider) create(ctx context.Context, o pitr.CreateOptions, retry string) (*pitr.Manifest, error) {
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
	if o.RestoreCommand != "" {
		m.BaseBackup.RestoreCommand = o.RestoreCommand
	}
	m.CreatedAt = time.Now().UTC()
	if err := p.recordIntent(ctx, m, o.Label, retry); err != nil {
		return nil, err
	}
	if m.Position, err = p.markPoint(ctx, m.Position.RestorePoint, s.ArchiveDir); err != nil {
		return nil, err
	}
	m.Timings["mark"] = pitr.Lap(&t0)
	m.Requirements = requirements(m)
	// recorded before the archive wait (Archived false): a re-run after a
	// kill or a timeout resumes with this restore point instead of creating
	// a second one with the same name, which recovery would stop at first
	if err := p.update(ctx, m); err != nil {
		return nil, err
	}
	return p.finishArchived(ctx, m, o.ArchiveWaitTimeout)
}

// recordIntent records the manifest with the restore point's name but no
// position before the marker is made, so that a re-run after a kill in
// between knows a point of that name may exist (see Create).
func (p *Provider) recordIntent(ctx context.Context, m *pitr.Manifest, label, retry string) error {
	if retry == "" {
		m.Position.RestorePoint = label
		return p.save(ctx, m)
	}
	m.Position.RestorePoint = retry
	m.Notes = append(m.Notes, fmt.Sprintf("an earlier create was interrupted around its marker: this one is named %q, so that recovery cannot stop at an unrecorded point", retry))
	return p.update(ctx, m)
}

// resume finishes a create that recorded its restore point but did not see
// it archived (killed, or the archive wait failed): it reuses the point.
func (p *Provider) resume(ctx context.Context, m *pitr.Manifest, timeout time.Duration) (*pitr.Manifest, error) {
	p.log.Info("resuming an interrupted snapshot create", "label", m.Label, "lsn", m.Position.LSN)
	m.Notes = append(m.Notes, fmt.Sprintf("resumed an interrupted create at %s: reused restore point %q at LSN %s",
		time.Now().UTC().Format(time.RFC3339), m.Position.RestorePoint, m.Position.LSN))
	return p.finishArchived(ctx, m, timeout)
}

// finishArchived waits until the marker's WAL segment is archived and
// records the manifest as complete.
func (p *Provider) finishArchived(ctx context.Context, m *pitr.Manifest, timeout time.Duration) (*pitr.Manifest, error) {
	t0 := time.Now()
	if err := p.waitArchived(ctx, m.Position.WALFile, m.Position.ArchiveDir, timeout); err != nil {
		return nil, err
	}
	m.Position.Archived = true
	m.Timings["archive_wait"] = pitr.Lap(&t0)
	if err := p.update(ctx, m); err != nil {
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
	switch bb := m.BaseBackup; {
	case bb.RestoreCommand != "":
		r = append(r, "the restore command "+dburl.Redact(bb.RestoreCommand)+" to fill a new data directory from backup "+backupID(bb))
	case bb.Dir != "":
		r = append(r, "base backup directory "+bb.Dir)
	default:
		r = append(r, "the backup tool to restore backup "+backupID(bb)+" (give verify --drill and restore --restore-command)")
	}
	if m.SnapshotStore != "" {
		r = append(r, "table copies in "+m.SnapshotStore+" (for restore --tables)")
	}
	return r
}
