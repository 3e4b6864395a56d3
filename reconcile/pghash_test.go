package reconcile

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

// The Go hash functions give exactly what the server's do, for int8s at
// and around every edge (int4 range, sign), texts of every length around
// lookup3's 12-byte blocks (ASCII and multi-byte UTF-8), and seeds that
// are zero, small, negative and random.
func TestPGHashMatchesServer(t *testing.T) {
	c := connect(t, env.PostgresDB(t))
	rng := rand.New(rand.NewPCG(1, 2))
	ints := []int64{0, 1, -1, 2, math.MaxInt32, math.MinInt32, math.MaxInt32 + 1, math.MinInt32 - 1,
		math.MaxInt64, math.MinInt64, 1 << 32, -(1 << 32), 946684800000000, -946684800000000}
	for range 200 {
		ints = append(ints, int64(rng.Uint64()), rng.Int64N(1<<20)-1<<19)
	}
	texts := []string{"", "a", "ı", "İ", "é", "日本語", strings.Repeat("x", 12)}
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(' ' + rng.IntN(95))
		}
		texts = append(texts, string(b), strings.Repeat("ü", n))
	}
	seeds := []int64{0, 1, -1, math.MinInt64, int64(rng.Uint64()), int64(rng.Uint64())}
	for _, seed := range seeds {
		var gotInts, gotTexts []int64
		err := c.QueryRow(context.Background(), `SELECT
			(SELECT array_agg(hashint8extended(v, $3) ORDER BY o) FROM unnest($1::int8[]) WITH ORDINALITY AS x(v, o)),
			(SELECT array_agg(hashtextextended(v COLLATE "C", $3) ORDER BY o) FROM unnest($2::text[]) WITH ORDINALITY AS x(v, o))`,
			ints, texts, seed).Scan(&gotInts, &gotTexts)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range ints {
			if want := int64(pgHashInt8(v, uint64(seed))); gotInts[i] != want {
				t.Errorf("hashint8extended(%d, %d): server %d, Go %d", v, seed, gotInts[i], want)
			}
		}
		for i, s := range texts {
			if want := int64(pgHashText(s, uint64(seed))); gotTexts[i] != want {
				t.Errorf("hashtextextended(%q, %d): server %d, Go %d", s, seed, gotTexts[i], want)
			}
		}
	}
	var ts int64
	if err := c.QueryRow(context.Background(), `SELECT timestamp_hash_extended('1970-01-01 00:00:00.000001', 7)`).Scan(&ts); err != nil {
		t.Fatal(err)
	}
	if want := int64(pgHashInt8(1-946684800000000, 7)); ts != want {
		t.Errorf("timestamp_hash_extended: server %d, Go %d", ts, want)
	}
}

// The arithmetic the row hash does before hashing: a timestamp's µs
// through date_part's float8, and the floor of a tolerance bucket, for
// values before 1970, around now and far ahead, negative and positive.
func TestRowHashArithmeticMatchesServer(t *testing.T) {
	c := connect(t, env.PostgresDB(t))
	us := []int64{0, 1, -1, 1772359200123456, -1772359200123457, 4102444800999999, -62135596800000000, 253402300799999999}
	var got []int64
	err := c.QueryRow(context.Background(), `SELECT array_agg((date_part('epoch', 'epoch'::timestamptz + v * interval '1 microsecond') * 1000000)::int8 ORDER BY o)
		FROM unnest($1::int8[]) WITH ORDINALITY AS x(v, o)`, us).Scan(&got)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range us {
		if want := datePartMicros(v); got[i] != want {
			t.Errorf("date_part µs of %d: server %d, Go %d", v, got[i], want)
		}
	}
	// below 10^15 (SQL's numeric division rounds quotients of 16 digits
	// or more: those ranges differ and are streamed, which costs time only)
	nums := []int64{-7, -6, -5, -1, 0, 1, 5, 6, 7, -999999999999998, 999999999999998}
	for _, tol := range []int64{1, 3, 1000000} {
		if err := c.QueryRow(context.Background(), `SELECT array_agg(floor(v::numeric / $2)::int8 ORDER BY o)
			FROM unnest($1::int8[]) WITH ORDINALITY AS x(v, o)`, nums, tol).Scan(&got); err != nil {
			t.Fatal(err)
		}
		for i, v := range nums {
			if want := floorDiv(v, tol); got[i] != want {
				t.Errorf("floor(%d / %d): server %d, Go %d", v, tol, got[i], want)
			}
		}
	}
}
