package reconcile

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// A double normalised by the fast path (its shortest decimal, scaled and
// rounded as text) equals the exact path (big.Rat): halves, values at the
// rounding edge, tiny, negative and large values, at every scale.
func TestFloatFastPathMatchesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, math.Copysign(0, -1), 0.125, -0.125, 0.24999999999999997, 0.005, -0.005, 1.005, 63.45, 1e-7, -1e-7,
		123456789.125, 999999999999999.9, -999999999999999.9, 0.1 + 0.2}
	for range 2000 {
		xs = append(xs, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(16))), float64(rng.IntN(1e6))/1000)
	}
	for _, x := range xs {
		for scale := range 7 {
			f := &Field{Type: FieldDecimal, Scale: scale}
			fast, ok := fastNumber(f, x, "")
			r, _ := toRat(x)
			exact, err := roundRat(r.Mul(r, new(big.Rat).SetInt(pow10(scale))))
			if ok && (err != nil || fast != exact) {
				t.Errorf("%v at scale %d: fast %d, exact %d (%v)", x, scale, fast, exact, err)
			}
		}
	}
}
