package postgres_test

import (
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/pgbin"
	"github.com/tidemark/tidemark/pitr"
)

// TestPgBackRestRoundTrip drives the real pgBackRest (the Debian package;
// .ci/run installs it): its backup through --backup-command, a drill and a
// restore through --restore-command, and its own verify through
// --verify-command, which exits 0 after finding a corrupt file — tidemark
// must still fail it.
func TestPgBackRestRoundTrip(t *testing.T) {
	t.Parallel()
	if _, err := osexec.LookPath("pgbackrest"); err != nil {
		t.Fatal("pgbackrest not found: install it (apt-get install pgbackrest; .ci/run does)")
	}
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	tool := pgBackRest(t, pg)
	ctx := ctxT(t)
	c := connect(t, pg.URL)
	p := open(t, pg.URL)
	exec(t, c, `CREATE TABLE orders(id int PRIMARY KEY, v text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 3000) g`)
	want := sum(t, c, "orders")
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-7", Tables: []string{"orders"}, BaseBackup: pitr.BackupCommand,
		BackupCommand:  tool + " backup --type=full --log-level-console=info",
		RestoreCommand: tool + " restore --pg1-path={dir} --set={backup_id} --type=name --target={restore_point} --log-level-console=warn"})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{8}-\d{6}F$`).MatchString(m.BaseBackup.ToolID) {
		t.Fatalf("pgBackRest's backup label not read from its output: %q", m.BaseBackup.ToolID)
	}
	exec(t, c, `UPDATE orders SET v = 'after' WHERE id <= 100; INSERT INTO orders VALUES (4000, 'new'); SELECT pg_switch_wal()`)

	if r, err := p.Verify(ctx, "deploy-7", pitr.VerifyOptions{Drill: true, Command: tool + " verify --set={backup_id} --log-level-console=info"}); err != nil || !r.OK {
		t.Fatalf("verify --drill with pgBackRest: %v %+v", err, r)
	}
	target := filepath.Join(scratchDir(t), "restored")
	res, err := p.Restore(ctx, "deploy-7", pitr.RestoreOptions{TargetDir: target})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopDir(target) })
	if got := sum(t, connect(t, replacePort(pg.URL, res.Port)), "orders"); got != want {
		t.Errorf("orders after the pgBackRest restore differ from the pre-deploy data")
	}

	corruptOneFile(t, filepath.Join(pg.Dir, "pgbackrest", "repo", "backup", "main", m.BaseBackup.ToolID, "pg_data"))
	r, err := p.Verify(ctx, "deploy-7", pitr.VerifyOptions{Command: tool + " verify --set={backup_id} --log-level-console=info"})
	if !errors.Is(err, errkind.ErrProblemsFound) || r == nil || r.OK {
		t.Fatalf("pgbackrest verify found a corrupt file (and exited 0): want exit 4, got %v %+v", err, r)
	}
}

// pgBackRest writes a config for pg's cluster, creates the stanza, and
// returns a command that runs pgbackrest with it (as the postgres OS user
// when we are root). Its restores get WAL from the cluster's plain archive.
func pgBackRest(t *testing.T, pg *env.Postgres) string {
	t.Helper()
	dir := filepath.Join(pg.Dir, "pgbackrest")
	for _, d := range []string{"repo", "log", "lock"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`[global]
repo1-path=%[1]s/repo
log-path=%[1]s/log
lock-path=%[1]s/lock
start-fast=y
archive-check=n
[main]
pg1-path=%[2]s
pg1-port=%[3]d
pg1-socket-path=%[4]s
recovery-option=restore_command=cp %[5]s/%%f %%p
`, dir, pg.DataDir, pg.Port, pg.SocketDir, pg.ArchiveDir)
	script := fmt.Sprintf(`#!/bin/sh
cmd="pgbackrest --config=%[1]s/pgbackrest.conf --stanza=main $*"
if [ "$(id -u)" = 0 ]; then exec su postgres -s /bin/sh -c "$cmd"; fi
exec sh -c "$cmd"
`, dir)
	tool := filepath.Join(dir, "pgbackrest.sh")
	if err := os.WriteFile(filepath.Join(dir, "pgbackrest.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tool, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := pgbin.Chown(dir); err != nil {
		t.Fatal(err)
	}
	if out, err := osexec.Command(tool, "stanza-create", "--log-level-console=warn").CombinedOutput(); err != nil {
		t.Fatalf("pgbackrest stanza-create: %v: %s", err, out)
	}
	return tool
}

// corruptOneFile overwrites bytes of the first file over 8 kB under dir.
func corruptOneFile(t *testing.T, dir string) {
	t.Helper()
	var victim string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error { //nolint:errcheck
		if info, ierr := d.Info(); err == nil && ierr == nil && !d.IsDir() && info.Size() > 8192 && victim == "" {
			victim = path
		}
		return nil
	})
	if victim == "" {
		t.Fatalf("no file to corrupt under %s", dir)
	}
	f, err := os.OpenFile(victim, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("not what pgbackrest wrote"), 100); err != nil {
		t.Fatal(err)
	}
}
