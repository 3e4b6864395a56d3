package reconcile

import (
	"fmt"
	"testing"
)

// BenchmarkReconcileHalfInGo: the orders/payments benchmark with the
// payments amount held as text, which SQL cannot normalise as Go does:
// the payments side streams every range and hashes it in Go, the orders
// side checksums in its database. 100 differences by the full compare and
// with range checksums, as a MongoDB or CockroachDB side against
// PostgreSQL would run (measured on PostgreSQL: FerretDB scans its whole
// collection for every range and key lookup).
func BenchmarkReconcileHalfInGo(b *testing.B) {
	n := benchRows(b)
	_, paymentsURL, rules := benchTables(b, n, "text", "((1000 + i % 5000) / 100.0)::text")
	b.ResetTimer()
	same, _ := benchCheck(b, rules, CheckOptions{Workers: 4, NoState: true}, 0)
	benchLoad(b, paymentsURL, `UPDATE payments SET amount = (amount::numeric + 1)::text WHERE order_id IN (SELECT (i * 7919) % `+fmt.Sprint(n)+` + 1 FROM generate_series(1, 100) i)`)
	full, peak := benchCheck(b, rules, CheckOptions{Workers: 4, NoChecksums: true, NoState: true}, 100)
	sums, peak2 := benchCheck(b, rules, CheckOptions{Workers: 4, NoState: true}, 100)
	b.ReportMetric(float64(2*n)/full.Seconds(), "compare-rows/s")
	b.ReportMetric(same.Seconds(), "checksum-nodiff-s")
	b.ReportMetric(full.Seconds(), "full-100diff-s")
	b.ReportMetric(sums.Seconds(), "checksum-100diff-s")
	b.ReportMetric(full.Seconds()/sums.Seconds(), "checksum-speedup-x")
	b.ReportMetric(float64(max(peak, peak2))/(1<<20), "peak-heap-MB")
}
