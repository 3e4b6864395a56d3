package reconcile

import (
	"math/big"
	"testing"
)

type ratT = big.Rat

func TestScaledDecimal(t *testing.T) {
	for _, c := range []struct {
		s     string
		scale int
		want  int64
	}{{"19.99", 2, 1999}, {"19.994", 2, 1999}, {"19.995", 2, 2000}, {"-19.995", 2, -2000}, {"7", 2, 700}, {"0.5", 0, 1}, {"-0.4", 0, 0}, {".25", 2, 25}} {
		got, ok := scaledDecimal(c.s, c.scale)
		if !ok || got != c.want {
			t.Errorf("scaledDecimal(%q, %d) = %d, %v; want %d", c.s, c.scale, got, ok, c.want)
		}
		r, _ := ratString(c.s)
		r.Mul(r, new(ratT).SetInt(pow10(c.scale)))
		if exact, _ := roundRat(r); exact != got {
			t.Errorf("%q: fast %d != exact %d", c.s, got, exact)
		}
	}
}
