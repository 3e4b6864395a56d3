package reconcile

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// normKind tells an absent field, NULL, a value, and a value that could not
// be normalised apart.
type normKind uint8

const (
	normAbsent normKind = iota
	normNull
	normValue
	normInvalid
)

// norm is a normalised field value: numbers as int64 (int; decimal scaled by
// 10^scale; money in minor units; timestamps in µs), text and uuids as strings.
type norm struct {
	kind normKind
	i    int64
	s    string
}

// normalize converts a side's raw value of f.
func normalize(f *Field, raw any, present bool, unit string) norm {
	if !present {
		return norm{kind: normAbsent}
	}
	if raw == nil {
		return norm{kind: normNull}
	}
	n, err := normalizeValue(f, raw, unit)
	if err != nil {
		return norm{kind: normInvalid, s: displayString(raw)}
	}
	return n
}

func normalizeValue(f *Field, raw any, unit string) (norm, error) {
	if i, ok := fastNumber(f, raw, unit); ok {
		return norm{kind: normValue, i: i}, nil
	}
	switch f.Type {
	case FieldInt:
		r, err := toRat(raw)
		if err != nil {
			return norm{}, err
		}
		i, err := roundRat(r)
		return norm{kind: normValue, i: i}, err
	case FieldDecimal, FieldMoney:
		r, err := toRat(raw)
		if err != nil {
			return norm{}, err
		}
		if f.Type == FieldDecimal || unit == "major" {
			r.Mul(r, new(big.Rat).SetInt(pow10(f.Scale)))
		}
		i, err := roundRat(r)
		return norm{kind: normValue, i: i}, err
	case FieldTimestamp:
		if t, ok := raw.(time.Time); ok && f.Precision <= time.Microsecond {
			return norm{kind: normValue, i: t.UnixMicro()}, nil // µs, floored as Truncate would
		}
		t, err := toTime(raw, f.TimeZone)
		if err != nil {
			return norm{}, err
		}
		return norm{kind: normValue, i: t.Truncate(f.Precision).UnixMicro()}, nil
	case FieldUUID:
		u, err := toUUID(raw)
		return norm{kind: normValue, s: UUID(u).String()}, err
	case FieldBool:
		switch strings.ToLower(displayString(raw)) {
		case "true", "t", "1":
			return norm{kind: normValue, i: 1}, nil
		case "false", "f", "0":
			return norm{kind: normValue, i: 0}, nil
		}
		return norm{}, fmt.Errorf("not a bool")
	}
	s, ok := raw.(string)
	if !ok {
		s = displayString(raw)
	}
	if f.Trim {
		s = strings.TrimSpace(s)
	}
	if f.IgnoreCase {
		s = strings.ToLower(s)
	}
	return norm{kind: normValue, s: s}, nil
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

func toRat(v any) (*big.Rat, error) {
	switch x := v.(type) {
	case int64:
		return new(big.Rat).SetInt64(x), nil
	case int32:
		return new(big.Rat).SetInt64(int64(x)), nil
	case int:
		return new(big.Rat).SetInt64(int64(x)), nil
	case int16:
		return new(big.Rat).SetInt64(int64(x)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a finite number", x)
		}
		// the shortest decimal that round-trips, as a person reads it
		r, ok := new(big.Rat).SetString(fmt.Sprint(x))
		if !ok {
			return nil, fmt.Errorf("bad float %v", x)
		}
		return r, nil
	case Decimal:
		return ratString(string(x))
	case primitive.Decimal128:
		return ratString(x.String())
	case string:
		return ratString(strings.TrimSpace(x))
	}
	return nil, fmt.Errorf("%v (%T) is not a number", v, v)
}

func ratString(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

// roundRat rounds half away from zero (as PostgreSQL's round(numeric)).
func roundRat(r *big.Rat) (int64, error) {
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, m := new(big.Int).QuoRem(num, den, new(big.Int))
	if m.Mul(m, big.NewInt(2)).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("%s is out of range", r.FloatString(0))
	}
	return q.Int64(), nil
}

// equalNorm compares two normalised values of f, with its tolerance.
func equalNorm(f *Field, a, b norm) bool {
	if a.kind != normValue || b.kind != normValue {
		if a.kind == normInvalid || b.kind == normInvalid {
			return false
		}
		if a.kind == normValue || b.kind == normValue {
			return false
		}
		return a.kind == b.kind || !f.NullsDistinct
	}
	if a.s != b.s {
		return false
	}
	d := a.i - b.i
	if d < 0 {
		d = -d
	}
	return d <= tolerance(f)
}

// tolerance is f's tolerance in normalised units.
func tolerance(f *Field) int64 {
	switch f.Type {
	case FieldTimestamp:
		return f.TimeTol.Microseconds()
	case FieldDecimal:
		return int64(math.Round(f.Tolerance * math.Pow10(f.Scale)))
	case FieldInt, FieldMoney:
		return int64(math.Round(f.Tolerance))
	}
	return 0
}

// String renders a normalised value for reports.
func (n norm) render(f *Field) any {
	switch n.kind {
	case normAbsent:
		return "(missing)"
	case normNull:
		return nil
	case normInvalid:
		return "invalid: " + n.s
	}
	switch f.Type {
	case FieldInt, FieldMoney:
		return n.i
	case FieldDecimal:
		return new(big.Rat).SetFrac(big.NewInt(n.i), pow10(f.Scale)).FloatString(f.Scale)
	case FieldTimestamp:
		return time.UnixMicro(n.i).UTC().Format(time.RFC3339Nano)
	case FieldBool:
		return n.i == 1
	}
	return n.s
}

// fastNumber normalises integers and decimal texts without big arithmetic.
func fastNumber(f *Field, raw any, unit string) (int64, bool) {
	scale := 0
	switch {
	case f.Type == FieldDecimal || f.Type == FieldMoney && unit == "major":
		scale = f.Scale
	case f.Type == FieldInt || f.Type == FieldMoney:
	default:
		return 0, false
	}
	switch x := raw.(type) {
	case int64:
		if scale == 0 {
			return x, true
		}
		if x < 1e12 && x > -1e12 && scale <= 6 {
			return x * int64(math.Pow10(scale)), true
		}
	case Decimal:
		return scaledDecimal(string(x), scale)
	case string: // scaledDecimal stops reading after the rounding digit
		if s := strings.TrimSpace(x); plainDecimal(s) {
			return scaledDecimal(s, scale)
		}
	case float64: // its shortest decimal, as toRat reads it
		if !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) < 1e15 {
			return scaledDecimal(strconv.FormatFloat(x, 'f', -1, 64), scale)
		}
	}
	return 0, false
}

// plainDecimal tells whether s is one sign at most, digits, and a point
// with digits: text the fast path reads whole; anything else (5.1x, --5,
// 1e3) is left to big.Rat, which reads it or reports it.
func plainDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	ip, fp, _ := strings.Cut(s, ".")
	digits := func(t string) bool {
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return false
			}
		}
		return true
	}
	return ip+fp != "" && digits(ip) && digits(fp)
}
