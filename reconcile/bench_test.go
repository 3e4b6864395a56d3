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
	"github.com/tidemark/tidemark/internal/dburl"
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
// sides (the ceiling), with 4 workers (the default) and with 1 and 2; range
// checksums with no difference; then 100 differences, by the full compare
// and with range checksums; peak Go heap.
func BenchmarkReconcileOrdersPayments(b *testing.B) {
	n := benchRows(b)
	ordersURL, paymentsURL, rules := benchTables(b, n, "numeric(12,2)", "(1000 + i % 5000) / 100.0")
	b.ResetTimer()
	copyDur := benchCopy(b, ordersURL, "SELECT id, total_cents, status, paid_at FROM orders ORDER BY id", paymentsURL,
		"SELECT order_id, amount, status, captured_at FROM payments ORDER BY order_id")
	full, peak := benchCheck(b, rules, CheckOptions{Workers: 4, NoChecksums: true, NoState: true}, 0)
	rows := float64(2 * n)
	for _, w := range []int{1, 2} {
		d, _ := benchCheck(b, rules, CheckOptions{Workers: w, NoChecksums: true, NoState: true}, 0)
		b.ReportMetric(copyDur.Seconds()/d.Seconds()*100, fmt.Sprintf("%%-of-copy-%dworker", w))
	}
	same, _ := benchCheck(b, rules, CheckOptions{Workers: 4, NoState: true}, 0)
	b.ReportMetric(same.Seconds(), "checksum-nodiff-s")
	benchServerCPU(b, rules, n)
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

// benchTables creates the benchmark's orders and payments tables of n
// rows in two databases (payments.amount of the given type and value for
// order i) and returns their URLs and the rules comparing them.
func benchTables(b *testing.B, n int, amountType, amount string) (string, string, *Rules) {
	ordersURL, paymentsURL := env.PostgresDB(b), env.PostgresDB(b)
	benchLoad(b, ordersURL, `CREATE TABLE orders (id bigint PRIMARY KEY, total_cents bigint NOT NULL, status text NOT NULL, paid_at timestamptz NOT NULL);
		INSERT INTO orders SELECT i, 1000 + i % 5000, 'PAID', '2026-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, `+fmt.Sprint(n)+`) i; VACUUM ANALYZE orders`)
	benchLoad(b, paymentsURL, `CREATE TABLE payments (order_id bigint PRIMARY KEY, amount `+amountType+` NOT NULL, status text NOT NULL, captured_at timestamptz NOT NULL);
		INSERT INTO payments SELECT i, `+amount+`, 'PAID', '2026-01-01'::timestamptz + i * interval '1 second' FROM generate_series(1, `+fmt.Sprint(n)+`) i; VACUUM ANALYZE payments`)
	b.Setenv("BENCH_ORDERS", ordersURL)
	b.Setenv("BENCH_PAYMENTS", paymentsURL)
	rules, err := ParseRules(strings.NewReader(benchRules), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return ordersURL, paymentsURL, rules
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
	skipped, ranges := 0, 0
	for _, c := range rep.Counts {
		skipped, ranges = skipped+c.RangesSkipped, ranges+c.Ranges
	}
	if !opts.NoChecksums && wantBreaks == 0 && skipped != ranges {
		b.Fatalf("no difference, but only %d of %d ranges equal by checksum", skipped, ranges)
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

// benchServerCPU measures the database server's CPU per row (its backend
// process's, from /proc) for each side: sending every row as the full
// compare reads it (binary, in key order) against computing the side's
// range checksum over the whole table. Their ratio bounds what checksums
// can save when the servers and tidemark share the machine's cores.
func benchServerCPU(b *testing.B, rules *Rules, n int) {
	inv := rules.Invariants[0]
	ctx := context.Background()
	for i, src := range []*Source{inv.Left.Source, inv.Right.Source} {
		c, err := pgx.Connect(ctx, src.URL.PGX())
		if err != nil {
			b.Fatal(err)
		}
		enc, err := encodeRows(ctx, c, src, inv.Fields, i == 0)
		if err != nil {
			b.Fatal(err)
		}
		sum, _ := sqlDialect{engine: dburl.Postgres}.Checksum(src, enc, false, false)
		send := "SELECT * FROM (" + src.SQL + ") AS " + srcAlias + " ORDER BY " + sqlDialect{engine: dburl.Postgres}.col(src.Key[0])
		sendNs, sumNs := backendCPU(b, c, send)/float64(n), backendCPU(b, c, sum)/float64(n)
		c.Close(ctx)
		b.Logf("server CPU per row of %s: send %.0f ns, checksum %.0f ns", src.Name, sendNs, sumNs)
		b.ReportMetric(sendNs, "server-send-ns/row-"+src.Name)
		b.ReportMetric(sumNs, "server-checksum-ns/row-"+src.Name)
	}
}

// backendCPU runs q on c (parallel query off), reads and drops its rows,
// and returns the CPU time its backend process used, in ns.
func backendCPU(b *testing.B, c *pgx.Conn, q string) float64 {
	ctx := context.Background()
	var pid int
	if _, err := c.Exec(ctx, "SET max_parallel_workers_per_gather = 0"); err != nil {
		b.Fatal(err)
	}
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		b.Fatal(err)
	}
	before := procCPU(b, pid)
	rows, err := c.Query(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
	}
	if rows.Close(); rows.Err() != nil {
		b.Fatal(rows.Err())
	}
	return float64(procCPU(b, pid) - before)
}

// procCPU is the user+system CPU of process pid, from /proc (10 ms ticks).
func procCPU(b *testing.B, pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
