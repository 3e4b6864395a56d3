package postgres_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
	"github.com/tidemark/tidemark/pitr/internal/sqlstore"
)

// fakeTool writes a stand-in for pgBackRest/WAL-G/Barman into dir: backup.sh
// STORE URL runs pg_basebackup into its own repository STORE and prints
// `backup_id=ID`; restore.sh FROM DIR ARCHIVE POINT MODE copies a backup
// into DIR and, by MODE, leaves recovery to tidemark (plain), writes all of
// it like pgbackrest --type=name with its default --target-action=pause
// (own), or only restore_command and recovery.signal like pgbackrest
// --type=default (notarget).
func fakeTool(t *testing.T, dir string) (backup, restore string) {
	t.Helper()
	bin, err := pgbin.Path("pg_basebackup")
	if err != nil {
		t.Fatal(err)
	}
	backup = filepath.Join(dir, "backup.sh")
	restore = filepath.Join(dir, "restore.sh")
	scripts := map[string]string{
		backup: fmt.Sprintf(`set -e
id="fake-$(date +%%Y%%m%%d%%H%%M%%S)-$$"
%s -D "$1/$id" -X stream -c fast -d "$2" >/dev/null
echo "fake tool: backup done"
echo "backup_id=$id"
`, bin),
		restore: `set -e
cp -a "$1/." "$2"
case "$5" in
own) printf "restore_command = 'cp %s/%%f %%p'\nrecovery_target_name = '%s'\nrecovery_target_action = 'pause'\n" "$3" "$4" >> "$2/postgresql.auto.conf"
     touch "$2/recovery.signal" ;;
notarget) printf "restore_command = 'cp %s/%%f %%p'\n" "$3" >> "$2/postgresql.auto.conf"
     touch "$2/recovery.signal" ;;
esac
echo "fake tool: restored $1"
`,
	}
	for p, s := range scripts {
		if err := os.WriteFile(p, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return backup, restore
}

// TestSnapshotRestoreCommandRoundTrip: a base backup taken by an external tool
// (--backup-command) is drilled and restored with --restore-command: the
// restored cluster holds exactly the pre-deploy data, whether tidemark or
// the tool writes the recovery settings; a failing restore command is a
// clear error that leaves nothing behind; without a restore command it is a
// usage error naming the flag.
func TestSnapshotRestoreCommandRoundTrip(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	ctx := ctxT(t)
	c := connect(t, pg.URL)
	exec(t, c, `CREATE TABLE orders(id int PRIMARY KEY, total numeric, note text)`)
	exec(t, c, `INSERT INTO orders SELECT g, g * 1.5, 'n' || g FROM generate_series(1, 3000) g`)
	store := filepath.Join(pg.Dir, "tool-repo")
	backup, restore := fakeTool(t, pg.Dir)
	restoreTmpl := "sh " + needPassword(t, pg, restore) + " {backup_dir}/{backup_id} {dir} {archive_dir} {restore_point} "
	p := open(t, pg.URL)

	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-1", Tables: []string{"orders"}, BaseBackup: pitr.BackupCommand,
		BackupDir: store, BackupCommand: "sh " + backup + " {dir} {database}", RestoreCommand: restoreTmpl + "plain"})
	if err != nil {
		t.Fatal(err)
	}
	bb := m.BaseBackup
	if bb == nil || !strings.HasPrefix(bb.ToolID, "fake-") || bb.RestoreCommand != restoreTmpl+"plain" || bb.Location != store {
		t.Fatalf("base backup record: %+v", bb)
	}
	if _, err := os.Stat(filepath.Join(store, bb.ToolID, "PG_VERSION")); err != nil {
		t.Fatalf("the tool's backup is not where it said: %v", err)
	}
	want := sum(t, c, "orders")

	exec(t, c, `INSERT INTO orders SELECT g, 1, 'after' FROM generate_series(3001, 4000) g`)
	exec(t, c, `UPDATE orders SET total = 0 WHERE id <= 100`)
	exec(t, c, `DELETE FROM orders WHERE id BETWEEN 200 AND 300`)
	exec(t, c, `CREATE TABLE after_deploy(x int)`)
	exec(t, c, `SELECT pg_switch_wal()`)

	// the drill with the tool writing its own recovery settings
	rep, err := p.Verify(ctx, "deploy-1", pitr.VerifyOptions{Drill: true, RestoreCommand: restoreTmpl + "own"})
	if err != nil || !rep.OK {
		t.Fatalf("verify --drill: %v %+v", err, rep)
	}
	if d := rep.Checks[len(rep.Checks)-1].Detail; !strings.Contains(d, "restored by `sh ") || !strings.Contains(d, "1 tables match") {
		t.Fatalf("drill detail: %s", d)
	}
	noPassword(t, "the drill report", rep)
	// the recorded command: tidemark writes recovery; the tool's recovery.signal without a target: tidemark adds it
	for _, mode := range []string{"", "notarget"} {
		target := filepath.Join(scratchDir(t), "restored")
		o := pitr.RestoreOptions{TargetDir: target}
		if mode != "" {
			o.RestoreCommand = restoreTmpl + mode
		}
		res, err := p.Restore(ctx, "deploy-1", o)
		if err != nil {
			t.Fatalf("restore (%s): %v", mode, err)
		}
		t.Cleanup(func() { stopDir(target) })
		if res.Command == nil || res.Command.ExitCode != 0 || !strings.Contains(res.Command.Output, "fake tool: restored") || res.Port == 0 {
			t.Fatalf("restore result (%s): %+v %+v", mode, res, res.Command)
		}
		noPassword(t, "the restore result", res)
		r := connect(t, replacePort(pg.URL, res.Port))
		if got := sum(t, r, "orders"); got != want {
			t.Errorf("restore (%s): orders differ from the pre-deploy data", mode)
		}
		var n int
		if err := r.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'after_deploy'`).Scan(&n); err != nil || n != 0 {
			t.Errorf("restore (%s): after_deploy exists (%d, %v)", mode, n, err)
		}
		stopDir(target)
	}

	// a restore command that fails: its exit and output in the error, the target left empty, nothing started
	target := filepath.Join(scratchDir(t), "failed")
	_, err = p.Restore(ctx, "deploy-1", pitr.RestoreOptions{TargetDir: target,
		RestoreCommand: "echo 'P00  ERROR: [075]: no backup set found' >&2; touch {dir}/PG_VERSION; exit 3"})
	if err == nil || !strings.Contains(err.Error(), "restore command failed") || !strings.Contains(err.Error(), "exited 3") ||
		!strings.Contains(err.Error(), "no backup set found") || errkind.ExitCode(err) != 1 {
		t.Fatalf("failing restore command: %v", err)
	}
	noPassword(t, "the error", err.Error())
	if ents, _ := os.ReadDir(target); len(ents) != 0 {
		t.Fatalf("a failed restore left %d files in %s", len(ents), target)
	}
	rep, err = p.Verify(ctx, "deploy-1", pitr.VerifyOptions{Drill: true, RestoreCommand: "exit 9 # {dir}"})
	if errkind.ExitCode(err) != 4 || rep == nil || !checkFailed(rep, "restore drill") {
		t.Fatalf("drill with a failing restore command: %v %+v", err, rep)
	}
	_, err = p.Restore(ctx, "deploy-1", pitr.RestoreOptions{TargetDir: target, RestoreCommand: "wal-g backup-fetch LATEST"})
	if !errors.Is(err, errkind.ErrUsage) || !strings.Contains(err.Error(), "must contain {dir}") {
		t.Fatalf("restore command without {dir}: %v", err)
	}

	// later snapshots on the same base backup inherit the recorded command
	m2, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-2"})
	if err != nil || m2.BaseBackup.RestoreCommand != restoreTmpl+"plain" {
		t.Fatalf("second snapshot: %v %+v", err, m2)
	}
	for _, label := range []string{"deploy-1", "deploy-2"} {
		stored, err := p.Get(ctx, label)
		if err != nil {
			t.Fatal(err)
		}
		noPassword(t, "the manifest of "+label, stored)
	}
}

// needPassword wraps the fake tool's restore script in one that first
// connects to the live server with psql, as pgBackRest or a site script may:
// without PGPASSWORD in its environment it fails (-w: never prompt).
func needPassword(t *testing.T, pg *env.Postgres, restore string) string {
	t.Helper()
	psql, err := pgbin.Path("psql")
	if err != nil {
		t.Fatal(err)
	}
	wrapper := filepath.Join(pg.Dir, "restore-needs-password.sh")
	script := fmt.Sprintf(`%s -w -h 127.0.0.1 -p %d -U postgres -d postgres -XAtqc 'SELECT 1' >/dev/null || { echo "fake tool: cannot connect to the server" >&2; exit 1; }
exec sh %s "$@"
`, psql, pg.Port, restore)
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return wrapper
}

// noPassword fails when v, as JSON, holds the server's password.
func noPassword(t *testing.T, what string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), env.PGPassword) {
		t.Errorf("%s holds the password: %s", what, b)
	}
}

// TestSnapshotCreateResumesInterrupted: a create whose archive wait failed left its
// restore point recorded (not archived); the re-run after the fix reuses
// that restore point (same LSN) instead of creating a second one.
func TestSnapshotCreateResumesInterrupted(t *testing.T) {
	t.Parallel()
	pg, ctx, c, p := backedUp(t)
	block := filepath.Join(pg.Dir, "block-archiving")
	if err := os.WriteFile(block, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	exec(t, c, fmt.Sprintf(`ALTER SYSTEM SET archive_command = 'test ! -f %s && cp %%p %s/%%f'`, block, pg.ArchiveDir))
	exec(t, c, `SELECT pg_reload_conf()`)
	_, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-1", ArchiveWaitTimeout: 20 * time.Second})
	wantPrecondition(t, err, "run the same snapshot create again")
	first, err := p.Get(ctx, "deploy-1")
	if err != nil || first.Position.LSN == "" || first.Position.Archived {
		t.Fatalf("the interrupted create recorded: %+v %v", first, err)
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `CREATE TABLE wake(x int); INSERT INTO wake VALUES (1)`)
	exec(t, c, `SELECT pg_switch_wal()`) // wakes the archiver, which retries the failed segment first
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-1", ArchiveWaitTimeout: 90 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if m.Position.LSN != first.Position.LSN || !m.Position.Archived || len(m.Notes) == 0 || !strings.Contains(m.Notes[0], "reused restore point") {
		t.Fatalf("resumed create: %+v (first LSN %s)", m, first.Position.LSN)
	}
	again, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-1"})
	if err != nil || !again.Existing || again.Position.LSN != first.Position.LSN {
		t.Fatalf("third create: %+v %v", again, err)
	}
	if r, err := p.Verify(ctx, "deploy-1", pitr.VerifyOptions{Drill: true}); err != nil || !r.OK {
		t.Fatalf("verify --drill after resume: %v %+v", err, r)
	}
}

// TestSnapshotCreateAfterAKillAtTheMarker: a create killed between its
// restore point and the record of it left only its intent (the name, no
// LSN) and an unrecorded point of that name in the WAL. The re-run marks
// under a new name, so a drill (recovery_target_name) stops at the recorded
// point, not at the orphan; until then verify and restore refuse with exit 3.
func TestSnapshotCreateAfterAKillAtTheMarker(t *testing.T) {
	t.Parallel()
	_, ctx, c, p := backedUp(t)
	exec(t, c, `CREATE TABLE orders(id int PRIMARY KEY); INSERT INTO orders VALUES (1)`)
	if err := sqlstore.Save(ctx, c, &pitr.Manifest{Label: "deploy-2", Engine: "postgres", Position: pitr.Position{RestorePoint: "deploy-2"}}); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `SELECT pg_create_restore_point('deploy-2')`) // the killed attempt's orphan
	_, err := p.Verify(ctx, "deploy-2", pitr.VerifyOptions{})
	wantPrecondition(t, err, "is incomplete")
	exec(t, c, `INSERT INTO orders VALUES (2)`) // after the orphan, before the real marker
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-2", Tables: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Position.RestorePoint != "deploy-2.2" || m.Position.LSN == "" || !m.Position.Archived {
		t.Fatalf("re-run after the kill: %+v", m.Position)
	}
	if r, err := p.Verify(ctx, "deploy-2", pitr.VerifyOptions{Drill: true}); err != nil || !r.OK {
		t.Fatalf("verify --drill (a drill stopped at the orphan would miss row 2): %v %+v", err, r)
	}
}
