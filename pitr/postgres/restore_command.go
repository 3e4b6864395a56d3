package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
)

// fillSource is the restore command that will fill a new data directory
// (restoreTemplate), or "" when tidemark copies a pg_basebackup backup
// itself, which needs the WAL archive directory. It is decided before
// anything is created, so a usage error leaves nothing behind.
func fillSource(m *pitr.Manifest, archive, restoreCmd string) (string, error) {
	tmpl, err := restoreTemplate(m, restoreCmd)
	if err != nil {
		return "", err
	}
	if tmpl == "" && archive == "" {
		return "", errkind.Usagef("the WAL archive directory is unknown (archive_command is not a plain cp): pass --archive-dir")
	}
	return tmpl, nil
}

// fillDir fills the new, empty data directory dir with the base backup: by
// the restore command tmpl (whose run it returns), else by tidemark's copy.
// The command gets the server's password as PGPASSWORD, as backup and
// verify commands do (never on its command line).
func (p *Provider) fillDir(ctx context.Context, m *pitr.Manifest, tmpl, archive, dir string) (*pitr.CommandRun, error) {
	if tmpl == "" {
		return nil, copyBackup(ctx, m.BaseBackup, dir)
	}
	return runRestoreCommand(ctx, pitr.ExpandTemplate(tmpl, restoreVars(m, archive, dir)), dir, p.passwordEnv())
}

// passwordEnv is the environment that lets a backup, verify or restore
// command connect to the server: PGPASSWORD, never on a command line.
func (p *Provider) passwordEnv() []string {
	return []string{"PGPASSWORD=" + p.u.Password()}
}

// restoreTemplate is the restore command to run: the one given, else the
// one recorded with the base backup, else "" for a pg_basebackup backup
// tidemark copies itself. A backup taken by --backup-command without one is
// a usage error naming the flag to give.
func restoreTemplate(m *pitr.Manifest, given string) (string, error) {
	bb := m.BaseBackup
	if bb == nil {
		return "", errkind.Usagef("snapshot %q records no base backup to restore from", m.Label)
	}
	tmpl := given
	if tmpl == "" {
		tmpl = bb.RestoreCommand
	}
	if tmpl != "" {
		return tmpl, checkRestoreTemplate(tmpl)
	}
	if bb.Dir == "" {
		return "", errkind.Usagef("base backup %s was taken by an external command (%s): pass --restore-command with a template that fills {dir} from it, e.g. 'pgbackrest --stanza=main restore --pg1-path={dir} --type=name --target={restore_point} --target-action=promote', 'wal-g backup-fetch {dir} {backup_id}' or 'barman recover main {backup_id} {dir}' (or record one with snapshot create --restore-command)",
			bb.ID, bb.Method)
	}
	return "", nil
}

// checkRestoreTemplate requires {dir}: the command must fill the directory
// tidemark then starts.
func checkRestoreTemplate(tmpl string) error {
	if !strings.Contains(tmpl, "{dir}") {
		return errkind.Usagef("--restore-command %q must contain {dir}, the new data directory it fills", dburl.Redact(tmpl))
	}
	return nil
}

// restoreVars are the placeholders of a restore command filling dir.
func restoreVars(m *pitr.Manifest, archive, dir string) map[string]string {
	bb := m.BaseBackup
	return map[string]string{"dir": dir, "label": m.Label, "backup_id": backupID(bb), "restore_point": m.Position.RestorePoint,
		"archive_dir": archive, "backup_dir": bb.Dir + bb.Location}
}

// backupID is the backup tool's own id when its output named one, else
// tidemark's id for the backup.
func backupID(bb *pitr.BaseBackup) string {
	if bb != nil && bb.ToolID != "" {
		return bb.ToolID
	}
	return bbID(bb)
}

// runRestoreCommand runs the expanded restore command that fills dir
// (created empty first: pgBackRest wants it to exist) with env added to its
// environment. pitr.RunCommand fails on a non-zero exit or error lines; its
// run (redacted) is returned either way.
func runRestoreCommand(ctx context.Context, command, dir string, env []string) (*pitr.CommandRun, error) {
	// owned by the server's OS user, so the tool may run as that user (sudo -u postgres ...)
	if err := pgbin.Chown(dir); err != nil {
		return nil, fmt.Errorf("chown %s: %w", dir, err)
	}
	run, err := pitr.RunCommand(ctx, command, env)
	if err != nil {
		return run, fmt.Errorf("restore command failed: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return run, fmt.Errorf("restore command %q exited 0 but %s holds no data directory (no PG_VERSION)", run.Command, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "standby.signal")); err == nil {
		return run, errkind.Usagef("restore command %q left standby.signal in %s: that server would stay a standby and never promote; restore as a point-in-time target instead (pgBackRest: --type=name --target={restore_point} --target-action=promote)", run.Command, dir)
	}
	return run, nil
}

// Patterns of the backup id in a backup tool's output, most specific first.
var toolIDPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?im)^\s*backup[ _-]?id\s*[:=]\s*(\S+)\s*$`),                        // backup_id=ID (your own wrapper)
	regexp.MustCompile(`new backup label = (\S+)`),                                          // pgBackRest (log-level-console=info)
	regexp.MustCompile(`Wrote backup with name (\S+)`),                                      // WAL-G backup-push
	regexp.MustCompile(`Starting backup using \S+ method for server \S+ in \S+/base/(\S+)`), // Barman
}

// toolBackupID finds the backup id a tool printed (the last one), or "".
func toolBackupID(output string) string {
	for _, re := range toolIDPatterns {
		if m := re.FindAllStringSubmatch(output, -1); len(m) > 0 {
			return m[len(m)-1][1]
		}
	}
	return ""
}

// clearDir removes what a failed fill left in dir, so the same --target-dir
// can be used again.
func clearDir(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
