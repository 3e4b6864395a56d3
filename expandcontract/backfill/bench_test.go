package backfill_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/fixtures/env"
)

// The benchmark's change: column c (int) gets a bigint replacement c_new
// computed by the up expression below, as an alter_column type change does.
const (
	benchReps = 2
	benchUp   = `c::bigint * 100`
	benchSet  = `c_new = ` + benchUp
	// benchFilter is what expand gives its backfills: rows a write filled
	// already are left alone (none here; it costs a NULL test per row)
	benchFilter = `c_new IS NULL`
)

// BenchmarkBackfill compares the backfill with the single-statement UPDATE on
// the same table size, and measures a concurrent write workload with and
// without it. Run with TIDEMARK_BENCH_SCALE=small (1M rows) or full (1M and
// 10M) and -benchtime 1x; see BENCHMARKS.md.
func BenchmarkBackfill(b *testing.B) {
	sizes := map[string][]int{"small": {1_000_000}, "full": {1_000_000, 10_000_000}}[os.Getenv("TIDEMARK_BENCH_SCALE")]
	if sizes == nil {
		b.Skip("set TIDEMARK_BENCH_SCALE=small or full to run the backfill benchmark")
	}
	ctx := context.Background()
	pg, err := env.StartPostgres(ctx, env.PGOptions{Settings: map[string]string{
		"shared_buffers": "'1GB'", "max_wal_size": "'8GB'", "checkpoint_timeout": "'30min'",
		"maintenance_work_mem": "'256MB'",
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Stop() //nolint:errcheck
	pool, err := pgxpool.New(ctx, pg.URL+"&pool_max_conns=16")
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	for _, n := range sizes {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			for range b.N {
				benchSize(b, pool, n)
			}
		})
	}
}

func benchSize(b *testing.B, pool *pgxpool.Pool, n int) {
	ctx := context.Background()
	exec(b, pool, `DROP TABLE IF EXISTS src, bt`,
		`CREATE TABLE src (id bigint PRIMARY KEY, a int NOT NULL, b text NOT NULL, c int NOT NULL, d timestamptz NOT NULL)`,
		fmt.Sprintf(`INSERT INTO src SELECT g, g %% 1000, md5(g::text), g %% 100000, now() - g * interval '1 second'
			FROM generate_series(1, %d) g`, n), `VACUUM ANALYZE src`)

	// Best of benchReps alternating runs of each, to damp the noise of a
	// machine shared with other work.
	var plain, rate float64
	var res backfill.Result
	var heapMax uint64
	for range benchReps {
		freshCopy(b, pool)
		start := time.Now()
		exec(b, pool, `UPDATE bt SET `+benchSet)
		p := float64(n) / time.Since(start).Seconds()
		plain = max(plain, p)

		freshCopy(b, pool)
		if err := backfill.Reset(ctx, pool, "bench"); err != nil {
			b.Fatal(err)
		}
		heap, stopHeap := sampleHeap()
		r, err := backfill.Run(ctx, pool, backfill.Job{ID: "bench", Table: "bt", Set: benchSet, Filter: benchFilter}, backfill.Options{})
		heapMax = max(heapMax, stopHeap())
		if err != nil {
			b.Fatal(err)
		}
		if rr := float64(r.Rows) / r.Duration.Seconds(); rr > rate {
			rate, res = rr, r
		}
		b.Logf("rows=%d: single UPDATE %.0f rows/s; backfill %.0f rows/s (%d batches, %v); heap in use max %.1f MiB (first sample %.1f MiB)",
			n, p, float64(r.Rows)/r.Duration.Seconds(), r.Batches, r.Duration.Round(time.Millisecond), mib(heapMax), mib(heap.first.Load()))
	}
	b.Logf("rows=%d: best single UPDATE %.0f rows/s; best backfill %.0f rows/s (%d batches) = %.0f%%", n, plain, rate, res.Batches, 100*rate/plain)

	// The write workload runs as during an expand: a trigger keeps c_new in step.
	freshCopy(b, pool)
	exec(b, pool, `CREATE OR REPLACE FUNCTION bt_up() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN NEW.c_new := NEW.`+benchUp+`; RETURN NEW; END $$`,
		`CREATE TRIGGER bt_up BEFORE INSERT OR UPDATE ON bt FOR EACH ROW EXECUTE FUNCTION bt_up()`)
	base := runWorkload(pool, n, int64(n)+1, func() { time.Sleep(10 * time.Second) })
	if err := backfill.Reset(ctx, pool, "bench-load"); err != nil {
		b.Fatal(err)
	}
	var loaded backfill.Result
	var err error
	during := runWorkload(pool, n, 2*int64(n)+1, func() {
		loaded, err = backfill.Run(ctx, pool, backfill.Job{ID: "bench-load", Table: "bt", Set: benchSet, Filter: benchFilter}, backfill.Options{})
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("rows=%d: writes alone %s", n, base)
	b.Logf("rows=%d: writes during backfill %s; backfill under load %.0f rows/s", n, during, float64(loaded.Rows)/loaded.Duration.Seconds())
	if bad := count(b, pool, `SELECT count(*) FROM bt WHERE c_new IS DISTINCT FROM `+benchUp+` AND id <= `+fmt.Sprint(n)); bad != 0 {
		b.Errorf("%d original rows without the new value", bad)
	}

	b.ReportMetric(rate, "backfill_rows/s")
	b.ReportMetric(plain, "update_rows/s")
	b.ReportMetric(rate/plain, "ratio")
	b.ReportMetric(ms(base.p99), "p99_alone_ms")
	b.ReportMetric(ms(during.p99), "p99_backfill_ms")
	b.ReportMetric(ms(during.p99)/ms(base.p99), "p99_ratio")
	b.ReportMetric(ms(during.maxLockWait), "max_lock_wait_ms")
	b.ReportMetric(float64(base.errors+during.errors), "write_errors")
	b.ReportMetric(mib(heapMax), "heap_max_MiB")
}

// freshCopy makes bt a fresh copy of src with the new column added, vacuumed
// and analysed, after a checkpoint, so each measured run starts alike.
func freshCopy(b *testing.B, pool *pgxpool.Pool) {
	exec(b, pool, `DROP TABLE IF EXISTS bt`, `CREATE TABLE bt (LIKE src INCLUDING ALL)`,
		`INSERT INTO bt SELECT * FROM src`, `ALTER TABLE bt ADD COLUMN c_new bigint`, `VACUUM ANALYZE bt`, `CHECKPOINT`)
	_, _ = pool.Exec(context.Background(), `SELECT pg_stat_reset()`)
}

type heapSampler struct{ max, first atomic.Uint64 }

// sampleHeap samples runtime.MemStats.HeapInuse every 50ms until stopped and
// returns the largest sample.
func sampleHeap() (*heapSampler, func() uint64) {
	h := &heapSampler{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			h.first.CompareAndSwap(0, m.HeapInuse)
			if m.HeapInuse > h.max.Load() {
				h.max.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	return h, func() uint64 { close(stop); wg.Wait(); return h.max.Load() }
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(v uint64) float64       { return float64(v) / (1 << 20) }
