package postgres_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/pitr"
	_ "github.com/tidemark/tidemark/pitr/postgres"
)

func TestMain(m *testing.M) { env.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, raw string) pitr.Provider {
	t.Helper()
	u, err := dburl.Parse(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pitr.Open(ctxT(t), u, pitr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func connect(t *testing.T, raw string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(ctxT(t), raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func exec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func sum(t *testing.T, c *pgx.Conn, table string) string {
	t.Helper()
	var n int64
	var s string
	err := c.QueryRow(context.Background(), `SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+table+` t`).Scan(&n, &s)
	if err != nil {
		t.Fatalf("sum %s: %v", table, err)
	}
	return s
}

func backupDir(t *testing.T, pg *env.Postgres) string { return filepath.Join(pg.Dir, "backups") }

// backedUp starts an archiving cluster with a base backup taken (snapshot
// "base"): the start of most PITR tests.
func backedUp(t *testing.T) (*env.Postgres, context.Context, *pgx.Conn, pitr.Provider) {
	t.Helper()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	ctx := ctxT(t)
	c := connect(t, pg.URL)
	p := open(t, pg.URL)
	if _, err := p.Create(ctx, pitr.CreateOptions{Label: "base", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: backupDir(t, pg)}); err != nil {
		t.Fatal(err)
	}
	return pg, ctx, c, p
}
