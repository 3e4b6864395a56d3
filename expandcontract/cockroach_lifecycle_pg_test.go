package expandcontract

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/lock"
)

// The CockroachDB plans' dialect-independent parts, run on PostgreSQL:
// the dual-write contract, the trigger function with explicit types, the
// views dropped and recreated around contract, the CockroachDB backfill
// runner and the lease-row run lock. (Job waits need a CockroachDB server:
// see cockroach_server_test.go.)

const crdbLifecycleMig = `
operations:
  - alter_column:
      table: items
      column: price
      type: numeric(10,2)
      up: price / 100.0
      down: (price * 100)::int
  - add_column:
      table: items
      up: upper(name)
      column: {name: label, type: text, nullable: true}`

func crdbOnPostgres(t *testing.T, major, minor int) (string, *pgxpool.Pool, Options) {
	t.Helper()
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	mustExec(t, pool, `CREATE TABLE items (id bigint PRIMARY KEY, price int NOT NULL, name text);
		INSERT INTO items SELECT g, g * 10, 'n' || g FROM generate_series(1, 200) g`)
	u, err := dburl.Parse(url, "cockroach") // the lease-row lock, on PostgreSQL
	if err != nil {
		t.Fatal(err)
	}
	d := Cockroach{Version: CockroachVersion{Major: major, Minor: minor}, URL: u, AsOf: "-", noJobWaits: true}
	return url, pool, Options{Dialect: d}
}

func queryText(t *testing.T, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, sql string) string {
	t.Helper()
	var s *string
	if err := q.QueryRow(context.Background(), sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if s == nil {
		return "NULL"
	}
	return *s
}

func TestCockroachDualWriteLifecycleOnPostgres(t *testing.T) {
	url, pool, opts := crdbOnPostgres(t, 23, 2)
	c := ctx(t)
	m := mig(t, "m1", crdbLifecycleMig)
	if _, err := Expand(c, pool, []*Migration{m}, opts); err != nil {
		t.Fatalf("expand: %v", err)
	}
	newc := versionConn(t, url, "public_m1")
	oldc := versionConn(t, url, "public")
	// Backfilled existing rows; no triggers.
	if got := queryText(t, newc, `SELECT price::text || ' ' || label FROM items WHERE id = 3`); got != "0.30 N3" {
		t.Fatalf("backfill: %s", got)
	}
	if n := queryText(t, pool, `SELECT count(*)::text FROM pg_trigger WHERE NOT tgisinternal`); n != "0" {
		t.Fatalf("dual-write mode created %s triggers", n)
	}
	// The new version writes both shapes (the contract); the old one only its own.
	mustExec(t, newc, `INSERT INTO items (id, price, name, label, _tm_old_price) VALUES (1001, 7.5, 'y', 'mine', 750)`)
	mustExec(t, oldc, `INSERT INTO items (id, price, name) VALUES (1002, 500, 'x')`)
	mustExec(t, oldc, `UPDATE items SET price = 999 WHERE id = 1`)
	if got := queryText(t, oldc, `SELECT price::text FROM items WHERE id = 1001`); got != "750" {
		t.Fatalf("old version reads the new version's row as %s", got)
	}
	if got := queryText(t, newc, `SELECT coalesce(price::text, 'NULL') FROM items WHERE id = 1002`); got != "NULL" {
		t.Fatalf("without triggers the old version's insert has no new value until contract, got %s", got)
	}
	newc.Close(c)
	oldc.Close(c)
	res, err := Contract(c, pool, opts)
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	for sql, want := range map[string]string{
		`SELECT price::text FROM items WHERE id = 1`:                            "9.99",
		`SELECT price::text || ' ' || label FROM items WHERE id = 1002`:         "5.00 X",
		`SELECT price::text || ' ' || label FROM items WHERE id = 1001`:         "7.50 mine",
		`SELECT count(*)::text FROM items WHERE price IS NULL OR label IS NULL`: "0",
		`SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public_m1' AND table_name = 'items'`: "id,price,name,label",
	} {
		if got := queryText(t, pool, sql); got != want {
			t.Errorf("after contract %s = %s, want %s", sql, got, want)
		}
	}
	t.Logf("contract: %+v", res)
}

func TestCockroachTriggersRollbackOnPostgres(t *testing.T) {
	url, pool, opts := crdbOnPostgres(t, 24, 3)
	c := ctx(t)
	if _, err := Expand(c, pool, []*Migration{mig(t, "m1", crdbLifecycleMig)}, opts); err != nil {
		t.Fatalf("expand: %v", err)
	}
	newc := versionConn(t, url, "public_m1")
	oldc := versionConn(t, url, "public")
	mustExec(t, oldc, `INSERT INTO items (id, price, name) VALUES (1002, 500, 'x')`)
	mustExec(t, newc, `INSERT INTO items (id, price, name) VALUES (1001, 7.5, 'y')`)
	if got := queryText(t, newc, `SELECT price::text || ' ' || label FROM items WHERE id = 1002`); got != "5.00 X" {
		t.Fatalf("trigger (explicit types) did not compute up: %s", got)
	}
	if got := queryText(t, oldc, `SELECT price::text FROM items WHERE id = 1001`); got != "750" {
		t.Fatalf("trigger did not compute down: %s", got)
	}
	newc.Close(c)
	oldc.Close(c)
	if _, err := Rollback(c, pool, opts); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if got := queryText(t, pool, `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items'`); got != "id,price,name" {
		t.Fatalf("rollback left columns: %s", got)
	}
}

func TestCockroachLeaseLockOnPostgres(t *testing.T) {
	_, pool, opts := crdbOnPostgres(t, 24, 3)
	c := ctx(t)
	if err := ensureState(c, pool); err != nil {
		t.Fatal(err)
	}
	held, err := lock.Acquire(c, opts.Dialect.(Cockroach).URL, "expandcontract:public", lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(context.Background()) //nolint:errcheck
	_, err = Expand(c, pool, []*Migration{mig(t, "m1", crdbLifecycleMig)}, opts)
	if !errors.Is(err, ErrBusy) || errkind.ExitCode(err) != 75 {
		t.Fatalf("want the lease held (exit 75), got %v", err)
	}
}
