package postgres

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
)

// Verify checks the marker's WAL is archived, the base backup passes
// pg_verifybackup, and with Drill restores into a scratch directory and
// compares the covered tables' checksums. Any failure: ErrProblemsFound.
func (p *Provider) Verify(ctx context.Context, label string, o pitr.VerifyOptions) (*pitr.VerifyReport, error) {
	if err := p.checkGivenArchiveDir(); err != nil {
		return nil, err
	}
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	if err := markerRecorded(m); err != nil {
		return nil, err
	}
	if o.Drill && m.BaseBackup != nil {
		// a missing --restore-command is a usage error (exit 2), found before any check runs
		if _, err := restoreTemplate(m, o.RestoreCommand); err != nil {
			return nil, err
		}
	}
	r := pitr.NewVerifyReport(label)
	t0 := time.Now()
	r.Add("marker WAL archived", p.checkArchived(ctx, m), m.Position.WALFile)
	chain, err := p.checkWALChain(ctx, m)
	r.Add("WAL chain from the base backup", err, chain)
	r.Add("base backup verified", verifyBaseBackup(ctx, m.BaseBackup), bbID(m.BaseBackup))
	if o.Command != "" {
		detail, err := p.toolVerify(ctx, m, o.Command)
		r.Add("backup tool's verify", err, detail)
	}
	r.Add("snapshot tables intact", p.checkTables(ctx, p.pool, m), fmt.Sprintf("%d tables", len(m.Tables)))
	r.Timings["checks"] = pitr.Lap(&t0)
	if o.Drill {
		detail, err := p.drill(ctx, m, o.RestoreCommand, r.Timings)
		r.Add("restore drill", err, detail)
	}
	return r, r.Err()
}

// toolVerify runs the backup tool's own verify command (pgBackRest, WAL-G,
// Barman); pitr.RunCommand fails on a non-zero exit or on error lines.
func (p *Provider) toolVerify(ctx context.Context, m *pitr.Manifest, tmpl string) (string, error) {
	vars := map[string]string{"label": m.Label, "backup_id": backupID(m.BaseBackup)}
	if m.BaseBackup != nil {
		vars["dir"] = m.BaseBackup.Location
	}
	run, err := pitr.RunCommand(ctx, pitr.ExpandTemplate(tmpl, vars), p.passwordEnv())
	if err != nil {
		return "", err
	}
	return run.Command, nil
}

func (p *Provider) checkArchived(ctx context.Context, m *pitr.Manifest) error {
	dir, err := p.archiveDir(m)
	if err != nil {
		return err
	}
	ok, err := p.archived(ctx, m.Position.WALFile, dir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("WAL segment %s is not in the archive %s", m.Position.WALFile, dir)
	}
	return nil
}

// verifyBaseBackup runs pg_verifybackup on a plain-format backup, or
// re-checks the recorded output of an external backup command.
func verifyBaseBackup(ctx context.Context, bb *pitr.BaseBackup) error {
	if bb == nil {
		return fmt.Errorf("no base backup recorded")
	}
	if bb.Dir == "" {
		if bb.Command != nil && bb.Command.ExitCode == 0 {
			return nil
		}
		return fmt.Errorf("external base backup %s did not succeed", bb.ID)
	}
	bin, err := pgbin.Path("pg_verifybackup")
	if err != nil {
		return err
	}
	dir := bb.Dir
	if bb.Format == "tar" {
		// pg_verifybackup before PostgreSQL 18 reads plain backups only
		scratch, err := os.MkdirTemp("", "tidemark-verify-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(scratch)
		if err := extractTar(ctx, bb.Dir, scratch); err != nil {
			return err
		}
		if err := copyFile(filepath.Join(bb.Dir, "backup_manifest"), filepath.Join(scratch, "backup_manifest")); err != nil {
			return err
		}
		dir = scratch
	}
	out, err := exec.CommandContext(ctx, bin, dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_verifybackup %s: %w: %s", bb.Dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// checkTables compares each snapshot copy's checksum with the manifest.
func (p *Provider) checkTables(ctx context.Context, q querier, m *pitr.Manifest) error {
	var bad []string
	for _, t := range m.Tables {
		n, sum, err := copySum(ctx, q, t)
		if err != nil {
			return err
		}
		if n != t.Rows || sum != t.Checksum {
			bad = append(bad, fmt.Sprintf("%s: %d rows/%s, manifest %d rows/%s", t.Copy, n, sum, t.Rows, t.Checksum))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("checksums differ: %s", strings.Join(bad, "; "))
	}
	return nil
}

// copySum checksums a snapshot copy: a COPY file, or a table in the snapshot schema.
func copySum(ctx context.Context, q querier, t pitr.TableSum) (int64, string, error) {
	if t.Algo == AlgoCopyFNV && filepath.IsAbs(t.Copy) {
		f, err := os.Open(t.Copy)
		if err != nil {
			return 0, "", fmt.Errorf("table snapshot file: %w", err)
		}
		defer f.Close()
		return SumReader(bufio.NewReaderSize(f, 1<<20))
	}
	return Checksum(ctx, q, t.Copy, algo(t))
}

// algo is the checksum algorithm of t (manifests before algorithms were
// recorded used md5_text).
func algo(t pitr.TableSum) string {
	if t.Algo == "" {
		return AlgoMD5Text
	}
	return t.Algo
}

// drill restores into a scratch directory on a free port, checks the
// covered tables there, then stops and removes it.
func (p *Provider) drill(ctx context.Context, m *pitr.Manifest, restoreCmd string, tm pitr.Timings) (string, error) {
	scratch, err := os.MkdirTemp("", "tidemark-drill-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	if err := pgbin.Chown(scratch); err != nil {
		return "", err
	}
	c, err := p.restoreCluster(ctx, m, filepath.Join(scratch, "data"), 0, restoreCmd)
	if err != nil {
		return "", err
	}
	defer stopCluster(c.Dir) //nolint:errcheck
	for k, v := range c.Timings {
		tm["drill_"+k] = v
	}
	conn, err := pgx.Connect(ctx, c.URL)
	if err != nil {
		return "", dburl.RedactError(fmt.Errorf("connect to the restored cluster: %w", err))
	}
	defer conn.Close(ctx)
	if err := p.checkTables(ctx, conn, m); err != nil {
		return "", fmt.Errorf("in the restored cluster: %w", err)
	}
	by := ""
	if c.Command != nil {
		by = fmt.Sprintf(" by `%s` (%.1fs)", c.Command.Command, c.Command.Seconds)
	}
	return fmt.Sprintf("restored%s to %q on port %d in %.1fs, %d tables match", by, m.Position.RestorePoint, c.Port, c.Timings["copy"]+c.Timings["wal_replay"], len(m.Tables)), nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
