package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

func wantPrecondition(t *testing.T, err error, msg string) {
	t.Helper()
	if !errors.Is(err, errkind.ErrPrecondition) || errkind.ExitCode(err) != 3 {
		t.Fatalf("want a precondition error (exit 3), got %v", err)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %q does not say %q", err, msg)
	}
}

func TestPreconditionArchivingOff(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{})
	p := open(t, pg.URL)
	_, err := p.Create(ctxT(t), pitr.CreateOptions{Label: "x"})
	wantPrecondition(t, err, "archive_mode = on")
}

func TestPreconditionNoBaseBackup(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	p := open(t, pg.URL)
	_, err := p.Create(ctxT(t), pitr.CreateOptions{Label: "x"})
	wantPrecondition(t, err, "no base backup")
	if _, err := p.Get(ctxT(t), "x"); !errors.Is(err, pitr.ErrNotFound) {
		t.Fatalf("a failed create left a manifest: %v", err)
	}
}

func TestPreconditionArchiverFailing(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true, Settings: map[string]string{"archive_command": "'false'"}})
	c := connect(t, pg.URL)
	exec(t, c, `CREATE TABLE t(x int); INSERT INTO t VALUES (1)`)
	exec(t, c, `SELECT pg_switch_wal()`)
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c.QueryRow(context.Background(), `SELECT failed_count FROM pg_stat_archiver`).Scan(&n) //nolint:errcheck
	}
	p := open(t, pg.URL)
	_, err := p.Create(ctxT(t), pitr.CreateOptions{Label: "x", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: backupDir(t, pg)})
	wantPrecondition(t, err, "archiver is failing")
}

func TestPreconditionWALLevelMinimal(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{Settings: map[string]string{"wal_level": "minimal", "max_wal_senders": "0"}})
	p := open(t, pg.URL)
	_, err := p.Create(ctxT(t), pitr.CreateOptions{Label: "x"})
	wantPrecondition(t, err, "wal_level = replica")
}

func TestPreconditionPrivilege(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	c := connect(t, pg.URL)
	exec(t, c, `CREATE ROLE deployer LOGIN PASSWORD 'pw'; GRANT CREATE ON DATABASE postgres TO deployer`)
	p := open(t, strings.Replace(pg.URL, "postgres:"+env.PGPassword, "deployer:pw", 1))
	_, err := p.Create(ctxT(t), pitr.CreateOptions{Label: "x"})
	wantPrecondition(t, err, "GRANT EXECUTE ON FUNCTION pg_create_restore_point")
}
