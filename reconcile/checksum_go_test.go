package reconcile

import (
	"strconv"
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

// A key is hashed by its value, whatever form it was read in: an int64,
// an int32, a decimal text (a numeric column), up to the int8 limits.
func TestKeyPartReadsEveryIntForm(t *testing.T) {
	for _, v := range []int64{0, -7, 1 << 40, 1<<62 + 1, -(1<<62 + 3)} {
		want := keyPart(KeyInt, v)
		forms := []any{Decimal(strconv.FormatInt(v, 10))}
		if v == int64(int32(v)) {
			forms = append(forms, int32(v))
		}
		for _, raw := range forms {
			if got := keyPart(KeyInt, raw); got != want {
				t.Errorf("key %v (%T): %+v, want %+v", raw, raw, got, want)
			}
		}
	}
}
