package expandcontract

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
)

const loadSetup = `CREATE TABLE accounts (id bigserial PRIMARY KEY, balance int NOT NULL, owner text NOT NULL);
INSERT INTO accounts (balance, owner) SELECT g, 'o' || g FROM generate_series(1, 20000) g;`

const loadMigration = `
operations:
  - alter_column:
      table: accounts
      column: balance
      type: numeric(14,2)
      up: balance / 100.0
      down: (balance * 100)::int
  - rename_column: {table: accounts, from: owner, to: holder}
`

// writers runs n goroutines inserting and updating through one version
// (search_path and application_name "load@<schema>") until stopped.
type writers struct {
	pool     *pgxpool.Pool
	stop     chan struct{}
	wg       sync.WaitGroup
	ok, fail atomic.Int64
	inserts  atomic.Int64
	errs     chan error
}

// writeOp is one transaction of a writer; it tells how many rows it inserted.
type writeOp func(ctx context.Context, pool *pgxpool.Pool) (inserts int64, err error)

func startWriters(t *testing.T, url, schema string, n int, op writeOp) *writers {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.ConnConfig.RuntimeParams["application_name"] = "load@" + schema
	cfg.MaxConns = int32(n)
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := &writers{pool: pool, stop: make(chan struct{}), errs: make(chan error, 100)}
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go w.loop(op)
	}
	return w
}

func (w *writers) loop(op writeOp) {
	defer w.wg.Done()
	ctx := context.Background()
	for {
		select {
		case <-w.stop:
			return
		default:
		}
		inserts, err := op(ctx, w.pool)
		if err != nil {
			w.fail.Add(1)
			select {
			case w.errs <- err:
			default:
			}
			continue
		}
		w.ok.Add(1)
		w.inserts.Add(inserts)
	}
}

// accountWrites inserts or updates an account through the old or the new version.
func accountWrites(isNew bool) writeOp {
	return func(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
		id := rand.Int64N(20000) + 1
		var err error
		insert := rand.IntN(4) == 0
		switch {
		case insert && isNew:
			_, err = pool.Exec(ctx, `INSERT INTO accounts (balance, holder) VALUES ($1::numeric / 100, 'new')`, rand.IntN(100000))
		case insert:
			_, err = pool.Exec(ctx, `INSERT INTO accounts (balance, owner) VALUES ($1, 'old')`, rand.IntN(100000))
		case isNew:
			_, err = pool.Exec(ctx, `UPDATE accounts SET balance = $1::numeric / 100 WHERE id = $2`, rand.IntN(100000), id)
		default:
			_, err = pool.Exec(ctx, `UPDATE accounts SET balance = $1 WHERE id = $2`, rand.IntN(100000), id)
		}
		if insert {
			return 1, err
		}
		return 0, err
	}
}

func (w *writers) halt(t *testing.T, name string) {
	close(w.stop)
	w.wg.Wait()
	w.pool.Close()
	t.Logf("%s writers: %d transactions, %d failed", name, w.ok.Load(), w.fail.Load())
	if w.fail.Load() > 0 {
		t.Errorf("%s writers: %d failed transactions, first: %v", name, w.fail.Load(), <-w.errs)
	}
	if w.ok.Load() == 0 {
		t.Errorf("%s writers did nothing", name)
	}
}

func waitSchema(t *testing.T, pool *pgxpool.Pool, schema string) {
	for i := 0; i < 600; i++ {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err == nil && n == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("schema %s never appeared", schema)
}

// TestConcurrentLoad writes through both versions (8 goroutines each)
// during expand and backfill, keeps writing through the new version during
// contract (the old version's clients drain first, as the drain check
// demands), then checks every row; and does the same with rollback.
func TestConcurrentLoad(t *testing.T) {
	for _, end := range []string{"contract", "rollback"} {
		t.Run(end, func(t *testing.T) { concurrentLoad(t, end) })
	}
}

func concurrentLoad(t *testing.T, end string) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, loadSetup)
	old := startWriters(t, url, "public", 8, accountWrites(false))
	time.Sleep(200 * time.Millisecond)
	var neu *writers
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := Expand(c, pool, []*Migration{mig(t, "m1", loadMigration)}, Options{MaxRate: 20000, TargetBatch: 20 * time.Millisecond})
		done <- err
	}()
	waitSchema(t, pool, "public_m1")
	neu = startWriters(t, url, "public_m1", 8, accountWrites(true))
	if err := <-done; err != nil {
		t.Fatalf("expand: %v", err)
	}
	t.Logf("expand with backfill under load: %v", time.Since(start))
	start = time.Now()
	time.Sleep(300 * time.Millisecond)
	var res *Result
	var err error
	if end == "contract" {
		old.halt(t, "old-version")
		res, err = Contract(c, pool, Options{DrainTimeout: 10 * time.Second})
		time.Sleep(200 * time.Millisecond)
		neu.halt(t, "new-version")
	} else {
		neu.halt(t, "new-version")
		res, err = Rollback(c, pool, Options{DrainTimeout: 10 * time.Second})
		time.Sleep(200 * time.Millisecond)
		old.halt(t, "old-version")
	}
	if err != nil {
		t.Fatalf("%s: %v", end, err)
	}
	t.Logf("%s under load: %v", end, time.Since(start))
	if end == "contract" && (res.Verify == nil || res.Verify.Mismatches != 0) {
		t.Errorf("contract verify: %+v", res.Verify)
	}
	want := fmt.Sprint(20000 + old.inserts.Load() + neu.inserts.Load())
	h := &hooks{t: t, url: url, version: "public_m1", ctx: c}
	h.eq("raw", `SELECT count(*) FROM accounts`, want)
	h.noLeftovers()
	if end == "contract" {
		h.eq("new", `SELECT count(*) FROM accounts WHERE balance IS NULL OR holder IS NULL`, "0")
		h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance'`, "numeric(14,2)")
	} else {
		h.eq("old", `SELECT count(*) FROM accounts WHERE balance IS NULL OR owner IS NULL`, "0")
		h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'balance'`, "integer")
	}
}
