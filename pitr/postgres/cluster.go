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
	"regexp"
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
	Command *pitr.CommandRun // the restore command's run, when one filled Dir
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

// restoreCluster fills dir with the base backup (tidemark's copy of a
// pg_basebackup backup, or the restore command), then recovers it to the
// restore point: recoverCluster.
func (p *Provider) restoreCluster(ctx context.Context, m *pitr.Manifest, dir string, port int, restoreCmd string) (*cluster, error) {
	archive, err := p.archiveDir(m)
	if err != nil {
		return nil, err
	}
	tmpl, err := fillSource(m, archive, restoreCmd)
	if err != nil {
		return nil, err
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	c := &cluster{Dir: dir, Port: port, Timings: pitr.Timings{}}
	t0 := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create target dir: %w", err)
	}
	if c.Command, err = p.fillDir(ctx, m, tmpl, archive, dir); err != nil {
		clearDir(dir)
		return nil, err
	}
	if err := p.recoverCluster(ctx, c, m, archive, &t0); err != nil {
		return nil, err
	}
	return c, nil
}

// recoverCluster is what every restore does once the data directory is
// filled: recovery settings (tidemark's own unless the restore command wrote
// recovery.signal), owner postgres, start on c.Port, wait until promoted.
func (p *Provider) recoverCluster(ctx context.Context, c *cluster, m *pitr.Manifest, archive string, t0 *time.Time) error {
	rp := m.Position.RestorePoint
	if err := prepareDir(c.Dir, archive, rp, c.Port); err != nil {
		clearDir(c.Dir)
		return err
	}
	c.Timings["copy"] = pitr.Lap(t0)
	if _, err := pgbin.Run(ctx, "pg_ctl", "start", "-w", "-t", "3600", "-D", c.Dir, "-l", filepath.Join(c.Dir, "tidemark-restore.log")); err != nil {
		stopCluster(c.Dir) //nolint:errcheck // pg_ctl may give up on a server that still starts
		return startError(c.Dir, archive, rp, err)
	}
	c.URL = p.urlForPort(c.Port)
	if err := waitPromoted(ctx, c.URL, c.Dir); err != nil {
		stopCluster(c.Dir) //nolint:errcheck
		return err
	}
	c.Timings["wal_replay"] = pitr.Lap(t0)
	return nil
}

func startError(dir, archive, rp string, err error) error {
	tail := logTail(dir)
	switch {
	case strings.Contains(tail, "recovery ended before configured recovery target was reached"):
		return errkind.Problemsf("WAL replay ended before reaching restore point %q: a WAL segment is missing from the archive %s\n%s", rp, archive, tail)
	case strings.Contains(strings.ToLower(err.Error()), "permission denied"):
		return fmt.Errorf("start restored cluster: the server's OS user must be able to enter every parent directory of %s and $TMPDIR (%s): %w", dir, os.TempDir(), err)
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
	if bb.Format == "tar" {
		return extractTar(ctx, bb.Dir, to)
	}
	if out, err := exec.CommandContext(ctx, "cp", "-a", bb.Dir+"/.", to+"/").CombinedOutput(); err != nil {
		return fmt.Errorf("copy base backup: %w: %s", err, out)
	}
	return nil
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

// prepareDir readies a filled data directory for its first start: no stale
// pid file, mode 0700, the restored server's own settings (port, loopback,
// archiving off), recovery to the restore point unless the restore command
// configured recovery itself, and owner postgres.
func prepareDir(dir, archive, rp string, port int) error {
	for _, f := range []string{"postmaster.pid", "postmaster.opts", "backup_manifest"} {
		os.Remove(filepath.Join(dir, f))
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	conf, err := recoverySettings(dir, archive, rp)
	if err != nil {
		return err
	}
	conf += fmt.Sprintf(`port = %d
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
archive_mode = 'off'
`, port)
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.auto.conf"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write recovery settings: %w", err)
	}
	_, err = f.WriteString("\n# tidemark snapshot restore\n" + conf)
	if err = errors.Join(err, f.Close()); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "recovery.signal"), nil, 0o600); err != nil {
		return err
	}
	return pgbin.Chown(dir)
}

// recoverySettings are the recovery lines tidemark adds: restore_command
// from the archive and the restore point target, when the directory has no
// recovery.signal yet; only the target when a restore command wrote
// recovery.signal but no recovery_target (pgBackRest --type=default would
// otherwise replay past the restore point); only the promote action when it
// wrote both (pgBackRest's default action, pause, would never promote).
func recoverySettings(dir, archive, rp string) (string, error) {
	const promote = "recovery_target_action = 'promote'\n"
	target := fmt.Sprintf("recovery_target_name = '%s'\n", strings.ReplaceAll(rp, "'", "''")) + promote
	if _, err := os.Stat(filepath.Join(dir, "recovery.signal")); err == nil {
		if hasRecoveryTarget(dir) {
			return promote, nil
		}
		return target, nil
	}
	if archive == "" {
		return "", errkind.Usagef("the restore command wrote no recovery settings (no recovery.signal in %s) and the WAL archive directory is unknown: pass --archive-dir, or have the tool write them (pgBackRest: --type=name --target={restore_point})", dir)
	}
	return fmt.Sprintf("restore_command = 'cp %s/%%f %%p'\n", archive) + target, nil
}

var recoveryTarget = regexp.MustCompile(`(?m)^\s*recovery_target(_name|_time|_xid|_lsn)?\s*=`)

// hasRecoveryTarget reports whether the configuration in dir sets a recovery target.
func hasRecoveryTarget(dir string) bool {
	for _, f := range []string{"postgresql.auto.conf", "postgresql.conf"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err == nil && recoveryTarget.Match(b) {
			return true
		}
	}
	return false
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
