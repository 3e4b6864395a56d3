package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// markPoint creates the restore point and switches to a new WAL segment,
// so the one holding the restore point can be archived.
func (p *Provider) markPoint(ctx context.Context, label, archiveDir string) (pitr.Position, error) {
	pos := pitr.Position{RestorePoint: label, ArchiveDir: archiveDir}
	err := p.pool.QueryRow(ctx, `SELECT l::text, pg_walfile_name(l), (SELECT timeline_id FROM pg_control_checkpoint())
		FROM pg_create_restore_point($1) AS l`, label).Scan(&pos.LSN, &pos.WALFile, &pos.Timeline)
	if err != nil {
		return pos, fmt.Errorf("create restore point: %w", err)
	}
	if _, err := p.pool.Exec(ctx, `SELECT pg_switch_wal()`); err != nil {
		return pos, fmt.Errorf("switch wal: %w", err)
	}
	return pos, nil
}

// waitArchived polls until walFile is archived, the archiver fails on it
// during the wait (failures counted before it began are not held against a
// create resumed after a fix), or the timeout passes.
func (p *Provider) waitArchived(ctx context.Context, walFile, archiveDir string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	baseline := int64(-1)
	poll := 5 * time.Millisecond
	for {
		done, err := p.archived(ctx, walFile, archiveDir)
		if err != nil || done {
			return err
		}
		a, err := p.archiverStats(ctx)
		if err != nil {
			return err
		}
		if baseline < 0 {
			baseline = a.Failed
		}
		if a.failing() && a.LastFailed >= walFile && a.Failed > baseline {
			return errkind.Preconditionf("the WAL archiver failed to archive %s (%d failures, last at %s): fix archive_command and check the server log, then run the same snapshot create again (it reuses this restore point)", walFile, a.Failed, fmtTime(a.LastFailTime))
		}
		if time.Now().After(deadline) {
			return errkind.Preconditionf("WAL segment %s was not archived within %s (last archived: %q): check archive_command or raise --archive-timeout, then run the same snapshot create again (it reuses this restore point)", walFile, timeout, a.LastArchived)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
		poll = min(poll*2, 250*time.Millisecond)
	}
}

// archived reports whether walFile is in the archive: the file in the
// archive directory when known, else pg_stat_archiver.last_archived_wal.
func (p *Provider) archived(ctx context.Context, walFile, archiveDir string) (bool, error) {
	if archiveDir != "" {
		_, err := os.Stat(filepath.Join(archiveDir, walFile))
		return err == nil, nil
	}
	a, err := p.archiverStats(ctx)
	if err != nil {
		return false, err
	}
	return a.LastArchived != "" && a.LastArchived >= walFile, nil
}
