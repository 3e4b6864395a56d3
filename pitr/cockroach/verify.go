package cockroach

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tidemark/tidemark/pitr"
)

// Verify checks the point is still restorable: the backup job succeeded
// and SHOW BACKUP ... WITH check_files passes, or the gc.ttlseconds window
// is still open; and the covered tables' checksums read AS OF SYSTEM TIME
// the marker still match. Drill (with a backup) restores into a scratch
// database, compares checksums there and drops it.
func (p *Provider) Verify(ctx context.Context, label string, o pitr.VerifyOptions) (*pitr.VerifyReport, error) {
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	r := pitr.NewVerifyReport(label)
	t0 := time.Now()
	if m.BaseBackup != nil {
		r.Add("backup job succeeded", p.checkJob(ctx, m.Position.BackupJobID), m.BaseBackup.ID)
		var files int
		err := p.pool.QueryRow(ctx, ShowBackupSQL(m.BaseBackup.Location)).Scan(&files)
		r.Add("backup files present", err, fmt.Sprintf("%s: %d entries", m.BaseBackup.Location, files))
	} else {
		var err error
		if m.Position.RestorableUntil != nil && time.Now().After(*m.Position.RestorableUntil) {
			err = fmt.Errorf("the gc.ttlseconds window closed at %s", m.Position.RestorableUntil.Format(time.RFC3339))
		}
		r.Add("inside the gc window", err, "")
	}
	r.Add("tables as of the marker match", p.compare(ctx, m.Tables, m.Position.HLC, ""), fmt.Sprintf("%d tables", len(m.Tables)))
	r.Timings["checks"] = pitr.Lap(&t0)
	if o.Drill && m.BaseBackup != nil {
		scratch := pitr.StoreName("tmdrill_", label)
		err := p.restoreAs(ctx, m, scratch)
		if err == nil {
			err = p.compare(ctx, m.Tables, "", scratch)
		}
		p.pool.Exec(context.WithoutCancel(ctx), `DROP DATABASE IF EXISTS `+Ident(scratch)+` CASCADE`) //nolint:errcheck
		r.Add("restore drill", err, "restored into "+scratch+", compared, dropped")
		r.Timings["drill"] = pitr.Lap(&t0)
	}
	return r, r.Err()
}

func (p *Provider) checkJob(ctx context.Context, id int64) error {
	var status, msg string
	if err := p.pool.QueryRow(ctx, JobStatusSQL(), id).Scan(&status, &msg); err != nil {
		return fmt.Errorf("job %d: %w", id, err)
	}
	if status != "succeeded" {
		return fmt.Errorf("job %d is %s %s", id, status, msg)
	}
	return nil
}

// compare re-reads checksums (as of hlc, or now in database db) and
// compares them with the manifest.
func (p *Provider) compare(ctx context.Context, tables []pitr.TableSum, hlc, db string) error {
	var bad []string
	for _, t := range tables {
		schema, name, _ := strings.Cut(t.Name, ".")
		n, sum, err := p.checksumIn(ctx, db, schema, name, hlc)
		if err != nil {
			return err
		}
		if n != t.Rows || sum != t.Checksum {
			bad = append(bad, fmt.Sprintf("%s: %d rows/%s, manifest %d/%s", t.Name, n, sum, t.Rows, t.Checksum))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("checksums differ: %s", strings.Join(bad, "; "))
	}
	return nil
}
