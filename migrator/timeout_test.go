package migrator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
)

// A migration that needs a lock held by a long transaction gives up after
// LockTimeoutDDL instead of queueing (and blocking the traffic behind it).
func TestLockTimeoutDDLGivesUpBehindLongTransaction(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	dir := writeFiles(t, map[string]string{"001_t.up.sql": "CREATE TABLE t (id int);"})
	if _, err := openPGT(t, raw, dir, Options{}).Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	long, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close(ctx)
	tx, err := long.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT * FROM t"); err != nil { // holds ACCESS SHARE until commit
		t.Fatal(err)
	}
	writeTo(t, dir, "002_alter.up.sql", "ALTER TABLE t ADD COLUMN n int;")
	m := openPGT(t, raw, dir, Options{LockTimeoutDDL: 300 * time.Millisecond})
	start := time.Now()
	res, err := m.Up(ctx, 0)
	if err == nil || !strings.Contains(err.Error(), "lock timeout") || !strings.Contains(err.Error(), "002_alter.up.sql:1") {
		t.Fatalf("up behind a long transaction: %v", err)
	}
	if time.Since(start) > 5*time.Second || res.To != 1 {
		t.Fatalf("took %s, version %d", time.Since(start), res.To)
	}
	tx.Rollback(ctx)
	if res, err = m.Up(ctx, 0); err != nil || res.To != 2 {
		t.Fatalf("up after the long transaction ended: %+v %v", res, err)
	}
}

func TestStatementTimeout(t *testing.T) {
	ctx := context.Background()
	m := openPGT(t, env.PostgresDB(t), writeFiles(t, map[string]string{"001_slow.up.sql": "SELECT pg_sleep(10);"}),
		Options{StatementTimeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := m.Up(ctx, 0); err == nil || !strings.Contains(err.Error(), "statement timeout") || time.Since(start) > 5*time.Second {
		t.Fatalf("slow statement: %v after %s", err, time.Since(start))
	}
}

// The cockroach dialect (lease-row lock) on PostgreSQL: its SQL is valid
// there, so the whole run is exercised without a CockroachDB server.
func TestCockroachDialectOnPostgres(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	u, err := dburl.Parse(raw, "cockroach")
	if err != nil {
		t.Fatal(err)
	}
	m, err := Open(ctx, u, Options{Source: writeFiles(t, basic)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	if res, err := m.Up(ctx, 0); err != nil || res.To != 3 {
		t.Fatalf("up: %+v %v", res, err)
	}
	if got := query(t, raw, "SELECT count(*)::text FROM tidemark.lock_leases"); got != "0" {
		t.Fatalf("lease rows left after the run: %s", got)
	}
}

// A real CockroachDB server, when one is configured.
func TestCockroachServer(t *testing.T) {
	ctx := context.Background()
	u, err := dburl.Parse(env.CockroachURL(t), "cockroach")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"001_a.up.sql":   "CREATE TABLE IF NOT EXISTS tm_mig_a (id INT PRIMARY KEY, note STRING);",
		"001_a.down.sql": "DROP TABLE IF EXISTS tm_mig_a;",
	}
	m, err := Open(ctx, u, Options{Source: writeFiles(t, files), LockTimeoutDDL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close(ctx)
	if _, err := m.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Down(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
