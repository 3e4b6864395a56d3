package reconcile

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"
)

// A double, or a number held as text, normalised by the fast path (its
// shortest decimal, scaled and rounded as text) equals the exact path
// (big.Rat), and text the exact path cannot read is left to it (so it
// is reported): halves, values at the
// rounding edge, tiny, negative and large values, at every scale.
func TestFloatFastPathMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, math.Copysign(0, -1), 0.125, -0.125, 0.24999999999999997, 0.005, -0.005, 1.005, 63.45, 1e-7, -1e-7,
		123456789.125, 999999999999999.9, -999999999999999.9, 0.1 + 0.2}
	for range 2000 {
		xs = append(xs, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(16))), float64(rng.IntN(1e6))/1000)
	}
	for _, s := range []string{"--5", "+-5", "-+5", "abc", "1e5", "", " ", ".", "5.1x", "5.0.0", "5.12-", "5.123x", "1_000", "0x10"} {
		for scale := range 3 {
			if n, ok := fastNumber(&Field{Type: FieldDecimal, Scale: scale}, s, ""); ok {
				if r, err := toRat(s); err != nil || r.Cmp(new(big.Rat).SetFrac(big.NewInt(n), pow10(scale))) != 0 {
					t.Errorf("%q at scale %d: fast path %d, exact %v %v", s, scale, n, r, err)
				}
			}
		}
	}
	for _, x := range xs {
		for scale := range 7 {
			f := &Field{Type: FieldDecimal, Scale: scale}
			for _, s := range []string{strconv.FormatFloat(x, 'f', -1, 64), strconv.FormatFloat(x, 'f', 3, 64), " " + strconv.FormatFloat(x, 'f', 1, 64) + " "} {
				fast, ok := fastNumber(f, s, "")
				r, _ := toRat(s)
				exact, err := roundRat(r.Mul(r, new(big.Rat).SetInt(pow10(scale))))
				if ok && (err != nil || fast != exact) {
					t.Errorf("%q at scale %d: fast %d, exact %d (%v)", s, scale, fast, exact, err)
				}
			}
			fast, ok := fastNumber(f, x, "")
			r, _ := toRat(x)
			exact, err := roundRat(r.Mul(r, new(big.Rat).SetInt(pow10(scale))))
			if ok && (err != nil || fast != exact) {
				t.Errorf("%v at scale %d: fast %d, exact %d (%v)", x, scale, fast, exact, err)
			}
		}
	}
}
