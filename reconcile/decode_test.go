package reconcile

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"
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

// Binary numerics decode to their exact decimal text, scale kept.
func TestDecodeNumeric(t *testing.T) {
	m := pgtype.NewMap()
	for _, s := range []string{"0", "0.00", "1", "-1", "19.99", "-19.90", "10000", "123456789.0001", "0.00012", "-0.5", "99999999.99", "100000000000000000000", "12.345678901234"} {
		var n pgtype.Numeric
		if err := n.Scan(s); err != nil {
			t.Fatal(err)
		}
		raw, err := m.Encode(pgtype.NumericOID, pgtype.BinaryFormatCode, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := decodeNumeric(raw)
		want, _ := n.Value()
		if !ok || string(got.(Decimal)) != fmt.Sprint(want) {
			t.Errorf("%s: decoded %v (%v), want %v", s, got, ok, want)
		}
	}
}
