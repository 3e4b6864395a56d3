package reconcile

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkGoRowHash: tidemark's CPU per row to hash a MongoDB payment
// (int key; amount in major units as a double; status; capture time) in
// Go, as a side that cannot hash in SQL does: normalising its fields as
// the comparison does, then the two hash chains.
func BenchmarkGoRowHash(b *testing.B) {
	b.Setenv("BENCH_ORDERS", "postgres://localhost/orders")
	b.Setenv("BENCH_PAYMENTS", "postgres://localhost/payments")
	rules, err := ParseRules(strings.NewReader(benchRules), "bench.yaml")
	if err != nil {
		b.Fatal(err)
	}
	inv := rules.Invariants[0]
	g := &goHasher{key: inv.Right.Source.Key, fields: inv.Fields}
	row := &Row{KeyVals: []any{int64(12345)}, Names: []string{"id", "amount", "status", "captured_at"},
		Vals: []any{int64(12345), 63.45, "PAID", time.Date(2026, 1, 1, 3, 25, 45, 0, time.UTC)}}
	b.ReportAllocs()
	for b.Loop() {
		g.row(row)
	}
}
