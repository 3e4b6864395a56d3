package expandcontract

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
)

// Real CockroachDB tests: they run when TIDEMARK_TEST_COCKROACH_URL points
// at a server (e.g. cockroach start-single-node --insecure:
// postgresql://root@localhost:26257/defaultdb?sslmode=disable), and skip
// with that reason otherwise.

// crdbDatabase creates a fresh database on the CockroachDB server and
// returns its URL, the pool and options with the detected dialect.
func crdbDatabase(t *testing.T) (string, *pgxpool.Pool, Options) {
	t.Helper()
	raw := env.CockroachURL(t)
	c := ctx(t)
	admin, err := pgx.Connect(c, raw)
	if err != nil {
		t.Fatalf("connect to CockroachDB: %v", dburl.RedactError(err))
	}
	defer admin.Close(c)
	name := fmt.Sprintf("tm_ec_%d", time.Now().UnixNano())
	if _, err := admin.Exec(c, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin2, err := pgx.Connect(context.Background(), raw)
		if err == nil {
			admin2.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" CASCADE")
			admin2.Close(context.Background())
		}
	}) //nolint:errcheck
	u, _ := url.Parse(raw)
	u.Path = "/" + name
	dbURL := u.String()
	pool := newPool(t, dbURL)
	d, err := DetectCockroach(c, pool)
	if err != nil {
		t.Fatal(err)
	}
	if d.URL, err = dburl.Parse(dbURL, "cockroach"); err != nil {
		t.Fatal(err)
	}
	t.Logf("CockroachDB %s (triggers: %v)", d.Version, d.Triggers())
	return dbURL, pool, Options{Dialect: d}
}

func TestCockroachServerLifecycle(t *testing.T) {
	url, pool, opts := crdbDatabase(t)
	d := opts.Dialect.(Cockroach)
	c := ctx(t)
	mustExec(t, pool, `CREATE TABLE items (id INT8 PRIMARY KEY, price INT8 NOT NULL, name STRING)`)
	mustExec(t, pool, `INSERT INTO items SELECT g, g * 10, 'n' || g::STRING FROM generate_series(1, 500) g`)
	m := mig(t, "m1", crdbLifecycleMig)
	plan, err := PlanExpand(c, pool, []*Migration{m}, opts)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if _, err := Expand(c, pool, []*Migration{m}, opts); err != nil {
		t.Fatalf("expand: %v (plan warnings %v)", err, plan.Warnings)
	}
	newc := versionConn(t, url, "public_m1")
	oldc := versionConn(t, url, "public")
	if got := queryText(t, newc, `SELECT price::STRING || ' ' || label FROM items WHERE id = 3`); got != "0.30 N3" {
		t.Fatalf("backfill: %s", got)
	}
	mustExec(t, oldc, `INSERT INTO items (id, price, name) VALUES (1002, 500, 'x')`)
	if d.Triggers() {
		mustExec(t, newc, `INSERT INTO items (id, price, name, label) VALUES (1001, 7.5, 'y', 'mine')`)
		if got := queryText(t, newc, `SELECT price::STRING FROM items WHERE id = 1002`); got != "5.00" {
			t.Fatalf("trigger up: %s", got)
		}
	} else {
		mustExec(t, newc, `INSERT INTO items (id, price, name, label, _tm_old_price) VALUES (1001, 7.5, 'y', 'mine', 750)`)
	}
	if got := queryText(t, oldc, `SELECT price::STRING FROM items WHERE id = 1001`); got != "750" {
		t.Fatalf("old version reads %s", got)
	}
	newc.Close(c)
	oldc.Close(c)
	if _, err := Contract(c, pool, opts); err != nil {
		t.Fatalf("contract: %v", err)
	}
	for sql, want := range map[string]string{
		`SELECT price::STRING || ' ' || label FROM items WHERE id = 1002`: "5.00 X",
		`SELECT price::STRING || ' ' || label FROM items WHERE id = 1001`: "7.50 mine",
		`SELECT count(*)::STRING FROM public_m1.items`:                    "502",
	} {
		if got := queryText(t, pool, sql); got != want {
			t.Errorf("after contract %s = %s, want %s", sql, got, want)
		}
	}
}

func TestCockroachServerRollback(t *testing.T) {
	_, pool, opts := crdbDatabase(t)
	c := ctx(t)
	mustExec(t, pool, `CREATE TABLE items (id INT8 PRIMARY KEY, price INT8 NOT NULL, name STRING)`)
	mustExec(t, pool, `INSERT INTO items SELECT g, g * 10, 'n' || g::STRING FROM generate_series(1, 100) g`)
	if _, err := Expand(c, pool, []*Migration{mig(t, "m1", crdbLifecycleMig)}, opts); err != nil {
		t.Fatalf("expand: %v", err)
	}
	if _, err := Rollback(c, pool, opts); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	got := queryText(t, pool, `SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items'`)
	if got != "id,price,name" {
		t.Fatalf("rollback left columns: %s", got)
	}
}

func TestCockroachServerJobWait(t *testing.T) {
	_, pool, opts := crdbDatabase(t)
	d := opts.Dialect.(Cockroach)
	c := ctx(t)
	mustExec(t, pool, `CREATE TABLE big (id INT8 PRIMARY KEY, v INT8)`)
	mustExec(t, pool, `INSERT INTO big SELECT g, g FROM generate_series(1, 20000) g`)
	mustExec(t, pool, `CREATE INDEX big_v_idx ON big (v)`)
	var polls int
	filter := jobsQuery([]string{"big"})
	if err := d.WaitJobs(c, pool, filter, 100*time.Millisecond, func([]JobProgress) { polls++ }); err != nil {
		t.Fatalf("wait: %v", err)
	}
	if _, err := pool.Exec(c, waitJobsSQL([]string{"big"})); err != nil {
		t.Fatalf("%s: %v", waitJobsSQL([]string{"big"}), err)
	}
	t.Logf("polls: %d", polls)
}

// TestCockroachServerWritesAheadOfTheBackfill: the guarded sync trigger
// and the filtered backfill on a CockroachDB server with triggers.
func TestCockroachServerWritesAheadOfTheBackfill(t *testing.T) {
	url, pool, opts := crdbDatabase(t)
	if !opts.Dialect.(Cockroach).Triggers() {
		t.Skip("this CockroachDB has no triggers (before v24.3): dual-write contract")
	}
	writesAheadOfTheBackfill(t, url, pool, opts)
}
