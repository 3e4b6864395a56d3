package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
)

// cluster is a restored cluster, running.
type cluster struct {
	Dir     string
	Port    int
	URL     string // with password: never print
	Timings pitr.Timings
}

// checkTarget refuses a target directory that exists and is not empty, or
// that is the live data directory.
func checkTarget(target, liveDataDir string) (string, error) {
	if target == "" {
		return "", errkind.Usagef("--target-dir is required for a whole-cluster restore")
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	if live := filepath.Clean(liveDataDir); liveDataDir != "" && (live == abs || strings.HasPrefix(abs, live+string(filepath.Separator))) {
		return "", errkind.Usagef("--target-dir %s is (inside) the live data directory %s: restore into a new directory", abs, live)
	}
	if ents, err := os.ReadDir(abs); err == nil && len(ents) > 0 {
		return "", errkind.Usagef("--target-dir %s exists and is not empty: restore into a new directory", abs)
	}
	return abs, nil
}

// restoreCluster copies the base backup to dir, configures recovery to the
// restore point, starts it and waits until it is promoted.
func (p *Provider) restoreCluster(ctx context.Context, m *pitr.Manifest, dir string, port int) (*cluster, error) {
	bb := m.BaseBackup
	if bb == nil || bb.Dir == "" {
		return nil, fmt.Errorf("%w: base backup %v was taken by an external command: restore it with that tool, with recovery_target_name = '%s'", pitr.ErrUnsupported, bbID(bb), m.Position.RestorePoint)
	}
	archive := p.opts.ArchiveDir
	if archive == "" {
		archive = m.Position.ArchiveDir
	}
	if archive == "" {
		return nil, errkind.Usagef("the WAL archive directory is unknown (archive_command is not a plain cp): pass --archive-dir")
	}
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	c := &cluster{Dir: dir, Port: port, Timings: pitr.Timings{}}
	t0 := time.Now()
	if err := copyBackup(ctx, bb, dir); err != nil {
		return nil, err
	}
	if err := writeRecoveryConf(dir, archive, m.Position.RestorePoint, port); err != nil {
		return nil, err
	}
	c.Timings["copy"] = pitr.Lap(&t0)
	if _, err := pgbin.Run(ctx, "pg_ctl", "start", "-w", "-t", "3600", "-D", dir, "-l", filepath.Join(dir, "tidemark-restore.log")); err != nil {
		return nil, startError(dir, archive, m.Position.RestorePoint, err)
	}
	c.URL = p.urlForPort(port)
	if err := waitPromoted(ctx, c.URL, dir); err != nil {
		stopCluster(dir)
		return nil, err
	}
	c.Timings["wal_replay"] = pitr.Lap(&t0)
	return c, nil
}

func startError(dir, archive, rp string, err error) error {
	tail := logTail(dir)
	switch {
	case strings.Contains(tail, "recovery ended before configured recovery target was reached"):
		return errkind.Problemsf("WAL replay ended before reaching restore point %q: a WAL segment is missing from the archive %s\n%s", rp, archive, tail)
	case strings.Contains(err.Error(), "Permission denied"):
		return fmt.Errorf("start restored cluster: the server's OS user must be able to enter every parent directory of %s: %w", dir, err)
	}
	return fmt.Errorf("start restored cluster: %w\n%s", err, tail)
}

func bbID(bb *pitr.BaseBackup) string {
	if bb == nil {
		return "(none)"
	}
	return bb.ID
}

// copyBackup copies a plain backup (cp -a) or extracts a tar one (base.tar,
// pg_wal.tar) into the new data directory.
func copyBackup(ctx context.Context, bb *pitr.BaseBackup, to string) error {
	if err := os.MkdirAll(to, 0o700); err != nil {
		return fmt.Errorf("create target dir: %w", err)
	}
	if bb.Format == "tar" {
		if err := extractTar(ctx, bb.Dir, to); err != nil {
			return err
		}
	} else if out, err := exec.CommandContext(ctx, "cp", "-a", bb.Dir+"/.", to+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("copy base backup: %w: %s", err, out)
	}
	for _, f := range []string{"postmaster.pid", "postmaster.opts", "backup_manifest"} {
		os.Remove(filepath.Join(to, f))
	}
	if err := os.Chmod(to, 0o700); err != nil {
		return err
	}
	return pgbin.Chown(to)
}

// extractTar unpacks a pg_basebackup -Ft backup: base.tar into to and
// pg_wal.tar into to/pg_wal. Tablespace tars (<oid>.tar) are not supported.
func extractTar(ctx context.Context, from, to string) error {
	if extra, _ := filepath.Glob(filepath.Join(from, "[0-9]*.tar")); len(extra) > 0 {
		return fmt.Errorf("%w: tar backups with tablespaces (%s)", pitr.ErrUnsupported, strings.Join(extra, ", "))
	}
	for _, part := range [][2]string{{"base.tar", to}, {"pg_wal.tar", filepath.Join(to, "pg_wal")}} {
		if err := os.MkdirAll(part[1], 0o700); err != nil {
			return err
		}
		if out, err := exec.CommandContext(ctx, "tar", "-xf", filepath.Join(from, part[0]), "-C", part[1]).CombinedOutput(); err != nil {
			return fmt.Errorf("extract %s: %w: %s", part[0], err, out)
		}
	}
	return nil
}

func writeRecoveryConf(dir, archive, rp string, port int) error {
	conf := fmt.Sprintf(`
# tidemark snapshot restore
restore_command = 'cp %s/%%f %%p'
recovery_target_name = '%s'
recovery_target_action = 'promote'
port = %d
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
archive_mode = 'off'
`, archive, strings.ReplaceAll(rp, "'", "''"), port)
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write recovery settings: %w", err)
	}
	_, err = f.WriteString(conf)
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "recovery.signal"), nil, 0o600); err != nil {
		return err
	}
	return pgbin.Chown(dir)
}

// waitPromoted waits until the restored server has left recovery (reached
// the restore point and promoted) or has stopped.
func waitPromoted(ctx context.Context, u, dir string) error {
	for {
		conn, err := pgx.Connect(ctx, u)
		if err == nil {
			var rec bool
			err = conn.QueryRow(ctx, `SELECT pg_is_in_recovery()`).Scan(&rec)
			conn.Close(ctx)
			if err == nil && !rec {
				return nil
			}
		}
		if _, serr := os.Stat(filepath.Join(dir, "postmaster.pid")); serr != nil {
			return startError(dir, "", "", errors.New("the restored server stopped"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func logTail(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "tidemark-restore.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var keep []string
	for _, l := range lines {
		if strings.Contains(l, "FATAL") || strings.Contains(l, "PANIC") || strings.Contains(l, "recovery") {
			keep = append(keep, l)
		}
	}
	if len(keep) > 6 {
		keep = keep[len(keep)-6:]
	}
	return strings.Join(keep, "\n")
}

func stopCluster(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := pgbin.Run(ctx, "pg_ctl", "stop", "-D", dir, "-m", "fast", "-w", "-t", "30")
	if err != nil {
		_, err = pgbin.Run(ctx, "pg_ctl", "stop", "-D", dir, "-m", "immediate", "-w")
	}
	return err
}

// urlForPort is the database URL pointed at the restored server.
func (p *Provider) urlForPort(port int) string {
	u, _ := url.Parse(p.u.PGX())
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	return u.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
