package postgres

import (
	"archive/tar"
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
)

// takeBaseBackup runs the configured base backup and records it.
func (p *Provider) takeBaseBackup(ctx context.Context, o pitr.CreateOptions) (*pitr.BaseBackup, error) {
	var bb *pitr.BaseBackup
	var err error
	switch o.BaseBackup {
	case pitr.BackupPGBaseBackup:
		bb, err = p.pgBaseBackup(ctx, o.Label, o.BackupDir, o.BackupFormat)
	case pitr.BackupCommand:
		bb, err = p.commandBackup(ctx, o)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	bb.RestoreCommand = o.RestoreCommand
	return bb, p.saveBaseBackup(ctx, bb)
}

// pgBaseBackup runs pg_basebackup -Fp or -Ft, -X stream, into a new
// subdirectory of dir.
func (p *Provider) pgBaseBackup(ctx context.Context, label, dir, format string) (*pitr.BaseBackup, error) {
	bin, err := pgbin.Path("pg_basebackup")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup dir: %w", err)
	}
	abs, _ := filepath.Abs(dir)
	id := pitr.StoreName("", label) + "-" + time.Now().UTC().Format("20060102T150405")
	target := filepath.Join(abs, id)
	start := time.Now()
	cmd := exec.CommandContext(ctx, bin, "-D", target, "-F"+format[:1], "-X", "stream", "-c", "fast",
		"-l", "tidemark "+label, "-d", p.connNoPassword())
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.u.Password())
	out, err := cmd.CombinedOutput()
	run := &pitr.CommandRun{Command: dburl.Redact(cmd.String()), Output: dburl.Redact(string(out)), Seconds: time.Since(start).Seconds()}
	if err != nil {
		os.RemoveAll(target)
		return nil, fmt.Errorf("pg_basebackup: %w: %s", err, strings.TrimSpace(run.Output))
	}
	if err := pgbin.Chown(target); err != nil {
		return nil, fmt.Errorf("chown base backup: %w", err)
	}
	lsn, wal, tli, err := readBackupLabel(target, format)
	if err != nil {
		return nil, err
	}
	p.log.Info("base backup taken", "dir", target, "start_lsn", lsn, "seconds", run.Seconds)
	return &pitr.BaseBackup{ID: id, Method: pitr.BackupPGBaseBackup, Dir: target,
		StartLSN: lsn, StartWAL: wal, Timeline: tli, TakenAt: start.UTC(), Command: run, Format: format}, nil
}

// connNoPassword is the database URL without its password (given to
// child processes through PGPASSWORD instead, so it never shows in ps).
func (p *Provider) connNoPassword() string {
	u, err := url.Parse(p.u.PGX())
	if err != nil {
		return p.u.PGX()
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// readBackupLabel reads START WAL LOCATION and START TIMELINE from the
// backup's backup_label (inside base.tar for the tar format).
func readBackupLabel(dir, format string) (lsn, wal string, tli int, err error) {
	var r io.Reader
	if format == "tar" {
		f, err := os.Open(filepath.Join(dir, "base.tar"))
		if err != nil {
			return "", "", 0, fmt.Errorf("read base.tar: %w", err)
		}
		defer f.Close()
		if r, err = tarMember(f, "backup_label"); err != nil {
			return "", "", 0, err
		}
	} else {
		f, err := os.Open(filepath.Join(dir, "backup_label"))
		if err != nil {
			return "", "", 0, fmt.Errorf("read backup_label: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "START WAL LOCATION: "); ok {
			var rest string
			lsn, rest, _ = strings.Cut(v, " ")
			wal = strings.TrimSuffix(strings.TrimPrefix(rest, "(file "), ")")
		}
		if v, ok := strings.CutPrefix(line, "START TIMELINE: "); ok {
			tli, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if lsn == "" {
		return "", "", 0, fmt.Errorf("backup_label in %s has no START WAL LOCATION", dir)
	}
	return lsn, wal, tli, nil
}

// tarMember returns a reader positioned at the named member of a tar stream.
func tarMember(r io.Reader, name string) (io.Reader, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%s not found in the tar backup", name)
		}
		if err != nil {
			return nil, fmt.Errorf("read tar backup: %w", err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			return tr, nil
		}
	}
}

// commandBackup runs the --backup-command template (pgBackRest, WAL-G,
// Barman...) and records its exit status and output.
func (p *Provider) commandBackup(ctx context.Context, o pitr.CreateOptions) (*pitr.BaseBackup, error) {
	var lsn, wal string
	if err := p.pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, pg_walfile_name(pg_current_wal_lsn())`).Scan(&lsn, &wal); err != nil {
		return nil, fmt.Errorf("read wal position: %w", err)
	}
	host, port, _ := strings.Cut(p.u.Host(), ":")
	vars := map[string]string{"label": o.Label, "dbname": p.u.Database(), "host": host, "port": port,
		"user": p.u.User(), "dir": o.BackupDir, "database": p.connNoPassword()}
	start := time.Now()
	run, err := pitr.RunCommand(ctx, pitr.ExpandTemplate(o.BackupCommand, vars), p.passwordEnv())
	if err != nil {
		return nil, errkind.Preconditionf("base backup command failed: %w", err)
	}
	id := pitr.StoreName("cmd-", o.Label) + "-" + start.UTC().Format("20060102T150405")
	return &pitr.BaseBackup{ID: id, Method: pitr.BackupCommand, StartLSN: lsn, StartWAL: wal, TakenAt: start.UTC(), Command: run,
		Location: o.BackupDir, ToolID: toolBackupID(run.Output)}, nil
}
