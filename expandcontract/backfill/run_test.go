package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/fixtures/env"
)

func TestMain(m *testing.M) { env.Main(m) }

func openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), env.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func exec(t testing.TB, pool *pgxpool.Pool, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := pool.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func count(t testing.TB, pool *pgxpool.Pool, sql string) int64 {
	t.Helper()
	var n int64
	if err := pool.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// keyCase is a table shape; every table has v int (the old column), nv bigint
// (the new one, NULL before the backfill) and n int counting updates per row
// (a BEFORE UPDATE trigger increments it).
type keyCase struct {
	name   string
	create string // CREATE TABLE t (..., v int, nv bigint, n int NOT NULL DEFAULT 0)
	insert string // INSERT INTO t (...) SELECT ... FROM generate_series(1, %d) g
	set    string // the job's Set; empty = touch, and a trigger computes nv
}

var keyCases = []keyCase{
	{"int_pk", `CREATE TABLE t (id bigint PRIMARY KEY, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (id, v) SELECT g, g FROM generate_series(1, %d) g`, `nv = v * 100`},
	{"composite_pk", `CREATE TABLE t (a int, b text, v int, nv bigint, n int NOT NULL DEFAULT 0, PRIMARY KEY (a, b))`,
		`INSERT INTO t (a, b, v) SELECT g %% 7, md5(g::text), g FROM generate_series(1, %d) g`, `nv = v * 100`},
	{"text_pk", `CREATE TABLE t (k text PRIMARY KEY, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (k, v) SELECT 'key ' || md5(g::text) || ' é', g FROM generate_series(1, %d) g`, `nv = v * 100`},
	{"uuid_pk", `CREATE TABLE t (k uuid PRIMARY KEY, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (k, v) SELECT md5(g::text)::uuid, g FROM generate_series(1, %d) g`, ``},
	{"unique_not_null_no_pk", `CREATE TABLE t (x int, u bigint NOT NULL UNIQUE, w int UNIQUE, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (x, u, w, v) SELECT g, g * 3, g, g FROM generate_series(1, %d) g`, `nv = v * 100`},
	{"no_key_ctid", `CREATE TABLE t (x int, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (x, v) SELECT g %% 10, g FROM generate_series(1, %d) g`, `nv = v * 100`},
	{"no_key_ctid_touch", `CREATE TABLE t (x int, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (x, v) SELECT g %% 10, g FROM generate_series(1, %d) g`, ``},
	{"identity_always", `CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int, nv bigint, n int NOT NULL DEFAULT 0)`,
		`INSERT INTO t (v) SELECT g FROM generate_series(1, %d) g`, ``},
}

// setupTable creates kc's table with rows rows, the update counter trigger,
// and a trigger computing nv = v * 100 on every write (as expand's up trigger).
func setupTable(t *testing.T, pool *pgxpool.Pool, kc keyCase, rows int) {
	t.Helper()
	exec(t, pool, kc.create, fmt.Sprintf(kc.insert, rows), `ANALYZE t`,
		`CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN NEW.n := OLD.n + 1; RETURN NEW; END $$`,
		`CREATE TRIGGER bump BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION bump()`,
		`CREATE FUNCTION up() RETURNS trigger LANGUAGE plpgsql AS $$
		 BEGIN NEW.nv := NEW.v::bigint * 100; RETURN NEW; END $$`)
	if kc.set == "" {
		exec(t, pool, `CREATE TRIGGER up BEFORE INSERT OR UPDATE ON t FOR EACH ROW EXECUTE FUNCTION up()`)
	}
}

// checkOnce asserts every row has nv = v*100 and was updated exactly once.
func checkOnce(t *testing.T, pool *pgxpool.Pool, rows int) {
	t.Helper()
	if got := count(t, pool, `SELECT count(*) FROM t`); got != int64(rows) {
		t.Fatalf("table has %d rows, want %d", got, rows)
	}
	if bad := count(t, pool, `SELECT count(*) FROM t WHERE nv IS DISTINCT FROM v::bigint * 100`); bad != 0 {
		t.Errorf("%d rows without the new value", bad)
	}
	if bad := count(t, pool, `SELECT count(*) FROM t WHERE n <> 1`); bad != 0 {
		t.Errorf("%d rows not updated exactly once (n <> 1); max n = %d", bad, count(t, pool, `SELECT max(n) FROM t`))
	}
}

func smallBatches() backfill.Options {
	return backfill.Options{InitialBatch: 300, MaxBatch: 700, TargetBatch: 20 * time.Millisecond}
}

func TestRunUpdatesEveryRowExactlyOnce(t *testing.T) {
	const rows = 5000
	for _, kc := range keyCases {
		t.Run(kc.name, func(t *testing.T) {
			pool := openPool(t)
			setupTable(t, pool, kc, rows)
			job := backfill.Job{ID: "j-" + kc.name, Table: "t", Set: kc.set}
			var last backfill.Progress
			opts := smallBatches()
			opts.OnProgress = func(p backfill.Progress) { last = p }
			res, err := backfill.Run(context.Background(), pool, job, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkOnce(t, pool, rows)
			if res.Rows != rows || res.Batches < 5 {
				t.Errorf("result %+v, want %d rows in several batches", res, rows)
			}
			if !last.Done || last.Rows != rows {
				t.Errorf("last progress %+v, want done with %d rows", last, rows)
			}
			again, err := backfill.Run(context.Background(), pool, job, opts)
			if err != nil || again.Rows != 0 {
				t.Errorf("second run of a done job: %+v, %v; want nothing done", again, err)
			}
			checkOnce(t, pool, rows)
		})
	}
}

// TestFixedBatchesWalkTheKeyInOrder pins the batch size and checks the batch
// count: each batch must cover the next size rows in key order.
func TestFixedBatchesWalkTheKeyInOrder(t *testing.T) {
	for _, kc := range []keyCase{keyCases[0], keyCases[1], keyCases[2]} {
		t.Run(kc.name, func(t *testing.T) {
			pool := openPool(t)
			setupTable(t, pool, kc, 5000)
			opts := backfill.Options{InitialBatch: 100, MaxBatch: 100, TargetBatch: time.Hour}
			res, err := backfill.Run(context.Background(), pool, backfill.Job{ID: "fixed", Table: "t", Set: kc.set}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Batches != 51 || res.Rows != 5000 {
				t.Errorf("%+v, want 5000 rows in 50 full batches and a final empty one", res)
			}
			checkOnce(t, pool, 5000)
		})
	}
}

func TestWherePredicateLimitsRows(t *testing.T) {
	pool := openPool(t)
	setupTable(t, pool, keyCases[0], 1000)
	job := backfill.Job{ID: "w", Table: "t", Set: "nv = v * 100", Where: "v % 2 = 0"}
	res, err := backfill.Run(context.Background(), pool, job, smallBatches())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 500 {
		t.Errorf("updated %d rows, want 500", res.Rows)
	}
	if n := count(t, pool, `SELECT count(*) FROM t WHERE nv IS NOT NULL AND v % 2 = 1`); n != 0 {
		t.Errorf("%d odd rows updated", n)
	}
}

// TestFilterLeavesRowsAlone: rows the filter rejects (filled already) keep
// their value, with the key-cut batches of every strategy (ctid included).
func TestFilterLeavesRowsAlone(t *testing.T) {
	for _, kc := range keyCases {
		if kc.set == "" {
			continue // its trigger recomputes nv on every write
		}
		t.Run(kc.name, func(t *testing.T) {
			pool := openPool(t)
			setupTable(t, pool, kc, 1000)
			exec(t, pool, `UPDATE t SET nv = -1 WHERE v % 3 = 0`)
			job := backfill.Job{ID: "f", Table: "t", Set: "nv = v * 100", Filter: "nv IS NULL"}
			res, err := backfill.Run(context.Background(), pool, job, smallBatches())
			if err != nil {
				t.Fatal(err)
			}
			kept := count(t, pool, `SELECT count(*) FROM t WHERE nv = -1`)
			if kept != count(t, pool, `SELECT count(*) FROM t WHERE v % 3 = 0`) || kept == 0 {
				t.Errorf("%d rows kept their value", kept)
			}
			if n := count(t, pool, `SELECT count(*) FROM t WHERE nv IS NULL OR (nv <> -1 AND nv <> v * 100)`); n != 0 {
				t.Errorf("%d rows not filled", n)
			}
			if res.Rows != int64(1000-kept) {
				t.Errorf("updated %d rows, want %d", res.Rows, 1000-kept)
			}
		})
	}
}

func TestResetStartsOver(t *testing.T) {
	pool := openPool(t)
	setupTable(t, pool, keyCases[0], 1000)
	job := backfill.Job{ID: "r", Table: "t", Set: "nv = v * 100"}
	ctx := context.Background()
	if _, err := backfill.Run(ctx, pool, job, backfill.Options{}); err != nil {
		t.Fatal(err)
	}
	if err := backfill.Reset(ctx, pool, "r"); err != nil {
		t.Fatal(err)
	}
	if c, err := backfill.Load(ctx, pool, "r"); err != nil || c != nil {
		t.Fatalf("cursor after reset: %+v, %v", c, err)
	}
	res, err := backfill.Run(ctx, pool, job, backfill.Options{})
	if err != nil || res.Rows != 1000 {
		t.Fatalf("run after reset: %+v, %v", res, err)
	}
	if n := count(t, pool, `SELECT count(*) FROM t WHERE n = 2`); n != 1000 {
		t.Errorf("%d rows updated twice, want all 1000", n)
	}
	if err := backfill.Reset(ctx, pool, "never-ran"); err != nil {
		t.Errorf("reset of an unknown job: %v", err)
	}
}

func TestErrors(t *testing.T) {
	pool := openPool(t)
	ctx := context.Background()
	_, err := backfill.Run(ctx, pool, backfill.Job{ID: "x", Table: "missing"}, backfill.Options{})
	if !errors.Is(err, backfill.ErrNoTable) {
		t.Errorf("missing table: %v, want ErrNoTable", err)
	}
	exec(t, pool, `CREATE TABLE g (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY)`, `INSERT INTO g DEFAULT VALUES`)
	_, err = backfill.Run(ctx, pool, backfill.Job{ID: "g", Table: "g"}, backfill.Options{})
	if !errors.Is(err, backfill.ErrNoTouchColumn) {
		t.Errorf("identity-only table: %v, want ErrNoTouchColumn", err)
	}
	exec(t, pool, `CREATE TABLE a (id int PRIMARY KEY)`, `CREATE TABLE b (id int PRIMARY KEY)`)
	if _, err := backfill.Run(ctx, pool, backfill.Job{ID: "same", Table: "a"}, backfill.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err = backfill.Run(ctx, pool, backfill.Job{ID: "same", Table: "b"}, backfill.Options{})
	if !errors.Is(err, backfill.ErrCursorMismatch) {
		t.Errorf("same ID on another table: %v, want ErrCursorMismatch", err)
	}
}

// TestSameJobTwiceAtOnce starts two runs of one job together: one does the
// work, the other waits for it and then finds the job done, or gives up with
// ErrBusy; never are rows updated twice.
func TestSameJobTwiceAtOnce(t *testing.T) {
	pool := openPool(t)
	const rows = 20000
	setupTable(t, pool, keyCases[0], rows)
	job := backfill.Job{ID: "twice", Table: "t", Set: "nv = v * 100"}
	errs := make(chan error, 2)
	var total atomic.Int64
	for range 2 {
		go func() {
			res, err := backfill.Run(context.Background(), pool, job, smallBatches())
			total.Add(res.Rows)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil && !errors.Is(err, backfill.ErrBusy) {
			t.Error(err)
		}
	}
	if total.Load() != rows {
		t.Errorf("the two runs did %d rows, want %d", total.Load(), rows)
	}
	checkOnce(t, pool, rows)
}
