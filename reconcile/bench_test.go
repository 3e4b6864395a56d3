package reconcile

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
)

// benchRows is the table size for TIDEMARK_BENCH_SCALE (small 1M, full 10M).
func benchRows(b *testing.B) int {
	switch os.Getenv("TIDEMARK_BENCH_SCALE") {
	case "":
		b.Skip("set TIDEMARK_BENCH_SCALE=small|full")
	case "full":
		return 10_000_000
	}
	return 1_000_000
}

const benchRules = `sources:
  orders:
    database: ${BENCH_ORDERS}
    sql: SELECT id, total_cents, status, paid_at FROM orders
    key: [id:int]
  payments:
    database: ${BENCH_PAYMENTS}
    sql: SELECT order_id AS id, amount, status, captured_at FROM payments
    key: [id:int]
invariants:
  - name: order_payments
    match:
      left: orders
      right: payments
      fields:
        - {name: amount, left: total_cents, right: amount, type: money, right_unit: major}
        - status
        - {name: paid_at, left: paid_at, right: captured_at, type: timestamp}
`

// BenchmarkReconcileOrdersPayments: full compare rate against COPY of both
// sides (the ceiling), with 4 workers (the default) and with 1 and 2, then
// 100 differences with range checksums, and peak Go heap.
func BenchmarkReconcileOrdersPayments(b *testing.B) {
	n := benchRows(b)
	ordersURL, paymentsURL := env.PostgresDB(b), env.PostgresDB(b)
	benchLoad(b, ordersURL, `CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL, status text NOT NULL, paid_at timestamptz NOT NULL);
		INSERT INTO orders SELECT i, 1000 + i % 5000, 'PAID', '2026-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, `+fmt.Sprint(n)+`) i; VACUUM ANALYZE orders`)
	benchLoad(b, paymentsURL, `CREATE TABLE payments (order_id bigint PRIMARY KEY, amount numeric(12,2) NOT NULL, status text NOT NULL, captured_at timestamptz NOT NULL);
		INSERT INTO payments SELECT i, (1000 + i % 5000) / 100.0, 'PAID', '2026-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, `+fmt.Sprint(n)+`) i; VACUUM ANALYZE payments`)
	b.Setenv("BENCH_ORDERS", ordersURL)
	b.Setenv("BENCH_PAYMENTS", paymentsURL)
	rules, err := ParseRules(strings.NewReader(benchRules), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	copyDur := benchCopy(b, ordersURL, "SELECT id, total_cents, status, paid_at FROM orders ORDER BY id", paymentsURL,
		"SELECT order_id, amount, status, captured_at FROM payments ORDER BY order_id")
	full, peak := benchCheck(b, rules, CheckOptions{Workers: 4, NoChecksums: true, NoState: true}, 0)
	rows := float64(2 * n)
	for _, w := range []int{1, 2} {
		d, _ := benchCheck(b, rules, CheckOptions{Workers: w, NoChecksums: true, NoState: true}, 0)
		b.ReportMetric(copyDur.Seconds()/d.Seconds()*100, fmt.Sprintf("%%-of-copy-%dworker", w))
	}
	benchLoad(b, paymentsURL, `UPDATE payments SET amount = amount + 1 WHERE order_id IN (SELECT (i * 7919) % `+fmt.Sprint(n)+` + 1 FROM generate_series(1, 100) i)`)
	fullDiff, _ := benchCheck(b, rules, CheckOptions{Workers: 4, NoChecksums: true, NoState: true}, 100)
	sums, peak2 := benchCheck(b, rules, CheckOptions{Workers: 4, NoState: true}, 100)
	b.ReportMetric(rows/copyDur.Seconds(), "copy-rows/s")
	b.ReportMetric(rows/full.Seconds(), "compare-rows/s")
	b.ReportMetric(copyDur.Seconds()/full.Seconds()*100, "%-of-copy")
	b.ReportMetric(fullDiff.Seconds(), "full-100diff-s")
	b.ReportMetric(sums.Seconds(), "checksum-100diff-s")
	b.ReportMetric(fullDiff.Seconds()/sums.Seconds(), "checksum-speedup-x")
	b.ReportMetric(float64(max(peak, peak2))/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MB")
}

func benchLoad(b *testing.B, url, sql string) {
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(context.Background())
	for _, q := range strings.Split(sql, ";") {
		if _, err := c.Exec(context.Background(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// benchCopy runs COPY (...) TO STDOUT of both sides at once and returns the time.
func benchCopy(b *testing.B, url1, q1, url2, q2 string) time.Duration {
	start := time.Now()
	var wg sync.WaitGroup
	for _, x := range [][2]string{{url1, q1}, {url2, q2}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(context.Background(), x[0])
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Close(context.Background())
			if _, err := c.PgConn().CopyTo(context.Background(), io.Discard, "COPY ("+x[1]+") TO STDOUT"); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	b.Logf("COPY both sides: %v", d)
	return d
}

// benchCheck runs Check, asserts the break count and returns its duration
// and the peak Go heap seen while it ran.
func benchCheck(b *testing.B, rules *Rules, opts CheckOptions, wantBreaks int) (time.Duration, uint64) {
	runtime.GC()
	stop := make(chan struct{})
	var peak uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	start, cpu0 := time.Now(), cpuTime()
	rep, err := Check(context.Background(), rules, opts)
	d, cpu := time.Since(start), cpuTime()-cpu0
	close(stop)
	<-done
	if err != nil {
		b.Fatal(err)
	}
	if len(rep.Breaks) != wantBreaks {
		b.Fatalf("%d breaks, want %d", len(rep.Breaks), wantBreaks)
	}
	skipped := 0
	for _, c := range rep.Counts {
		skipped += c.RangesSkipped
	}
	b.Logf("check (checksums %v, %d workers): %v (tidemark CPU %v), %d rows, %d breaks, %d ranges equal by checksum, peak heap %d MB",
		!opts.NoChecksums, opts.Workers, d.Round(time.Millisecond), cpu.Round(time.Millisecond), rep.RowsCompared(), len(rep.Breaks), skipped, peak>>20)
	return d, peak
}

func maxRSS() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
