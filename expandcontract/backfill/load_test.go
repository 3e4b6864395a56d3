package backfill_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

// writeLoad runs single-row inserts, updates and deletes on t until stop is
// closed and returns the number of writes and errors.
func writeLoad(pool *pgxpool.Pool, workers, maxID int, stop <-chan struct{}) (writes, errs *atomic.Int64, wait func()) {
	writes, errs = new(atomic.Int64), new(atomic.Int64)
	var wg sync.WaitGroup
	var nextID atomic.Int64
	nextID.Store(int64(maxID))
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := rng.IntN(maxID) + 1
				var err error
				switch op := rng.IntN(10); {
				case op < 6:
					_, err = pool.Exec(context.Background(), `UPDATE t SET v = v + 1 WHERE id = $1`, id)
				case op < 8:
					_, err = pool.Exec(context.Background(), `INSERT INTO t (id, v) VALUES ($1, $2)`, nextID.Add(1), id)
				default:
					_, err = pool.Exec(context.Background(), `DELETE FROM t WHERE id = $1`, id)
				}
				writes.Add(1)
				if err != nil {
					errs.Add(1)
				}
			}
		})
	}
	return writes, errs, wg.Wait
}

func TestConcurrentWritersDuringBackfill(t *testing.T) {
	pool := openPool(t)
	const rows = 30000
	kc := keyCases[0]
	kc.set = "" // the up trigger computes nv, as during expand
	setupTable(t, pool, kc, rows)
	stop := make(chan struct{})
	writes, errs, wait := writeLoad(pool, 4, rows, stop)
	time.Sleep(100 * time.Millisecond)
	opts := smallBatches()
	opts.MaxRate = 20000 // keep the backfill running alongside the writers for a while
	res, err := backfill.Run(context.Background(), pool, backfill.Job{ID: "busy", Table: "t"}, opts)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wait()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backfill %+v alongside %d writes", res, writes.Load())
	if errs.Load() != 0 {
		t.Errorf("%d of %d concurrent writes failed", errs.Load(), writes.Load())
	}
	if writes.Load() < 100 {
		t.Errorf("only %d concurrent writes: the load did not overlap the backfill", writes.Load())
	}
	if bad := count(t, pool, `SELECT count(*) FROM t WHERE nv IS DISTINCT FROM v::bigint * 100`); bad != 0 {
		t.Errorf("%d rows without the new value", bad)
	}
}

func TestMaxRateIsHonoured(t *testing.T) {
	pool := openPool(t)
	const rows, rate = 3000, 2000.0
	setupTable(t, pool, keyCases[0], rows)
	res, err := backfill.Run(context.Background(), pool, backfill.Job{ID: "slow", Table: "t", Set: "nv = v * 100"},
		backfill.Options{MaxRate: rate, MaxReplicationLag: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got := float64(res.Rows) / res.Duration.Seconds()
	t.Logf("%+v: %.0f rows/s", res, got)
	if got > rate*1.15 || got < rate*0.5 {
		t.Errorf("rate %.0f rows/s, want about %.0f", got, rate)
	}
	checkOnce(t, pool, rows)
}

// TestLockTimeoutRetries holds a row lock longer than the batch lock_timeout:
// the backfill must retry (not fail, not wait behind it) and finish after.
func TestLockTimeoutRetries(t *testing.T) {
	pool := openPool(t)
	const rows = 3000
	setupTable(t, pool, keyCases[0], rows)
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT * FROM t WHERE id = 1500 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	held := 1200 * time.Millisecond
	time.AfterFunc(held, func() { tx.Rollback(ctx) }) //nolint:errcheck
	var logs bytes.Buffer
	var mu sync.Mutex
	opts := backfill.Options{LockTimeout: 100 * time.Millisecond, InitialBatch: 200,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))}
	res, err := backfill.Run(ctx, pool, backfill.Job{ID: "locked", Table: "t", Set: "nv = v * 100"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	retries := strings.Count(logs.String(), "retrying")
	mu.Unlock()
	if retries == 0 || res.Duration < held {
		t.Errorf("no retry logged (%d) or finished (%v) before the lock was released", retries, res.Duration)
	}
	checkOnce(t, pool, rows)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
