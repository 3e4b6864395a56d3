package expandcontract

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
)

// lockWaitRun measures the longest write latency of 8 writers while Expand
// and Contract run and a long transaction (a report, holding ACCESS SHARE
// for hold) sits on the table, so each DDL queues behind it and the
// writers queue behind the DDL until lock_timeout makes it step back.
// With opts nil nothing runs for 3*hold: the workload's own latency floor.
func lockWaitRun(t testing.TB, url string, opts *Options, hold time.Duration) (maxWait time.Duration, writes, errs int64) {
	pool := newPool(t, url)
	c := context.Background()
	mustExec(t, pool, `CREATE TABLE acct (id bigserial PRIMARY KEY, balance int NOT NULL);
		INSERT INTO acct (balance) SELECT g FROM generate_series(1, 5000) g;`)
	wpool, err := pgxpool.New(c, url)
	if err != nil {
		t.Fatal(err)
	}
	defer wpool.Close()
	var stop atomic.Bool
	var maxNs, n, nerr atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; !stop.Load(); j++ {
				start := time.Now()
				_, err := wpool.Exec(c, `UPDATE acct SET balance = balance + 1 WHERE id = $1`, 1+(i*1000+j)%5000)
				d := time.Since(start).Nanoseconds()
				for old := maxNs.Load(); d > old && !maxNs.CompareAndSwap(old, d); old = maxNs.Load() {
				}
				n.Add(1)
				if err != nil {
					nerr.Add(1)
				}
			}
		}(i)
	}
	reportDone := make(chan struct{})
	go func() { // the long report, started again whenever it ends
		defer close(reportDone)
		for !stop.Load() {
			tx, err := pool.Begin(c)
			if err != nil {
				return
			}
			tx.Exec(c, `SELECT count(*) FROM acct`) //nolint:errcheck
			time.Sleep(hold)
			tx.Rollback(c) //nolint:errcheck
			time.Sleep(50 * time.Millisecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if opts == nil {
		time.Sleep(3 * hold)
	} else {
		expandContract(t, pool, *opts)
	}
	stop.Store(true)
	wg.Wait()
	<-reportDone
	return time.Duration(maxNs.Load()), n.Load(), nerr.Load()
}

func expandContract(t testing.TB, pool *pgxpool.Pool, opts Options) {
	c := context.Background()
	opts.DDLDeadline = 3 * time.Minute
	m := mig(t, "m1", `operations: [{alter_column: {table: acct, column: balance, type: bigint, up: balance, down: balance}}]`)
	if _, err := Expand(c, pool, []*Migration{m}, opts); err != nil {
		t.Fatalf("expand: %v", err)
	}
	if _, err := Contract(c, pool, opts); err != nil {
		t.Fatalf("contract: %v", err)
	}
}

// TestWritesWaitAtMostTheLockTimeout: with a long report on the table and
// stepping back off, every DDL of expand and contract waits at most
// lock_timeout before stepping back, so no write waits much longer than that.
func TestWritesWaitAtMostTheLockTimeout(t *testing.T) {
	lt := 300 * time.Millisecond
	maxWait, writes, errs := lockWaitRun(t, env.PostgresDB(t), &Options{LockTimeout: lt, StepBackAfter: -1}, time.Second)
	t.Logf("lock_timeout %v: %d writes, %d errors, longest write %v", lt, writes, errs, maxWait)
	if errs > 0 {
		t.Errorf("%d failed writes", errs)
	}
	// lock_timeout plus scheduling slack on a loaded 2-core machine; the
	// report alone would have held them 1s.
	slack := 700 * time.Millisecond
	if raceEnabled {
		slack = 2 * time.Second
	}
	if maxWait > lt+slack {
		t.Errorf("a write waited %v (lock_timeout %v)", maxWait, lt)
	}
}

// TestDDLStepsBackWhenWritesQueue: with the default step-back, a DDL
// statement queued behind the report is cancelled once writes queue behind
// it, so no write waits anywhere near the lock_timeout (lock_timeout alone
// would hold them 2s; the bound leaves room for a loaded machine's noise).
func TestDDLStepsBackWhenWritesQueue(t *testing.T) {
	lt := 2 * time.Second
	maxWait, writes, errs := lockWaitRun(t, env.PostgresDB(t), &Options{LockTimeout: lt}, 2500*time.Millisecond)
	t.Logf("lock_timeout %v, step back after 50ms: %d writes, %d errors, longest write %v", lt, writes, errs, maxWait)
	if errs > 0 {
		t.Errorf("%d failed writes", errs)
	}
	if maxWait >= lt/2 {
		t.Errorf("a write waited %v: the DDL did not step back before lock_timeout %v", maxWait, lt)
	}
}

// BenchmarkLockWait reports the longest write wait during expand+contract
// behind a 3s report: with tidemark's defaults (step back after 50ms,
// lock_timeout 500ms), with lock_timeout alone, with neither (what a plain
// ALTER TABLE does), and the same workload with no DDL at all (the floor
// the machine itself sets).
func BenchmarkLockWait(b *testing.B) {
	if os.Getenv("TIDEMARK_BENCH_SCALE") == "" {
		b.Skip("set TIDEMARK_BENCH_SCALE (make bench)")
	}
	hold := 3 * time.Second
	for i := 0; i < b.N; i++ {
		def, n1, e1 := lockWaitRun(b, env.PostgresDB(b), &Options{}, hold)
		lt, n2, e2 := lockWaitRun(b, env.PostgresDB(b), &Options{LockTimeout: 500 * time.Millisecond, StepBackAfter: -1}, hold)
		none, n3, e3 := lockWaitRun(b, env.PostgresDB(b), &Options{LockTimeout: time.Hour, StepBackAfter: -1}, hold)
		floor, _, _ := lockWaitRun(b, env.PostgresDB(b), nil, hold)
		b.ReportMetric(float64(floor.Milliseconds()), "max_write_wait_without_tidemark_ms")
		b.ReportMetric(float64(def.Milliseconds()), "max_write_wait_ms")
		b.ReportMetric(float64(lt.Milliseconds()), "max_write_wait_lock_timeout_only_ms")
		b.ReportMetric(float64(none.Milliseconds()), "max_write_wait_no_lock_timeout_ms")
		b.ReportMetric(float64(e1+e2+e3), "write_errors")
		b.ReportMetric(float64(n1+n2+n3), "writes")
	}
}
