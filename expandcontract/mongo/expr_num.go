package mongo

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson/primitive"
)

// numeric rank: int32 < int64 < double < decimal (MongoDB's widening order).
func numRank(v any) int {
	switch v.(type) {
	case int32:
		return 1
	case int64:
		return 2
	case float64:
		return 3
	case primitive.Decimal128:
		return 4
	}
	return 0
}

func toFloat(v any) float64 {
	switch n := v.(type) {
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case float64:
		return n
	case primitive.Decimal128:
		f, _ := decToRat(n).Float64()
		return f
	}
	return math.NaN()
}

func toInt64(v any) int64 {
	switch n := v.(type) {
	case int32:
		return int64(n)
	case int64:
		return n
	}
	return int64(toFloat(v))
}

func decToRat(d primitive.Decimal128) *big.Rat {
	bi, exp, err := d.BigInt()
	if err != nil {
		return new(big.Rat)
	}
	r := new(big.Rat).SetInt(bi)
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(exp))), nil))
	if exp >= 0 {
		return r.Mul(r, p)
	}
	return r.Quo(r, p)
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func toRat(v any) *big.Rat {
	switch n := v.(type) {
	case primitive.Decimal128:
		return decToRat(n)
	case int32, int64:
		return new(big.Rat).SetInt64(toInt64(n))
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(toFloat(v), 'g', -1, 64))
	if r == nil {
		return new(big.Rat)
	}
	return r
}

func ratToDec(r *big.Rat) (primitive.Decimal128, error) {
	s := r.FloatString(34)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if d, err := primitive.ParseDecimal128(s); err == nil {
		return d, nil
	}
	f, _ := r.Float64()
	return primitive.ParseDecimal128(strconv.FormatFloat(f, 'g', 34, 64))
}

// arith implements $add, $subtract, $multiply and $divide.
func arith(op byte) opFunc {
	return func(args []any) (any, error) {
		if len(args) == 0 || (op == '-' || op == '/') && len(args) != 2 {
			return nil, fmt.Errorf("wrong number of arguments")
		}
		rank := 0
		for _, a := range args {
			if isNullish(a) {
				return nil, nil
			}
			r := numRank(a)
			if r == 0 {
				return nil, fmt.Errorf("argument %v is not a number", a)
			}
			rank = max(rank, r)
		}
		if op == '/' && rank < 3 {
			rank = 3
		}
		switch rank {
		case 4:
			return ratArith(op, args)
		case 3:
			return floatArith(op, args)
		}
		return intArith(op, args, rank)
	}
}

func ratArith(op byte, args []any) (any, error) {
	acc := toRat(args[0])
	for _, a := range args[1:] {
		r := toRat(a)
		switch op {
		case '+':
			acc.Add(acc, r)
		case '-':
			acc.Sub(acc, r)
		case '*':
			acc.Mul(acc, r)
		case '/':
			if r.Sign() == 0 {
				return nil, fmt.Errorf("division by zero")
			}
			acc.Quo(acc, r)
		}
	}
	return ratToDec(acc)
}

func floatArith(op byte, args []any) (any, error) {
	acc := toFloat(args[0])
	for _, a := range args[1:] {
		f := toFloat(a)
		switch op {
		case '+':
			acc += f
		case '-':
			acc -= f
		case '*':
			acc *= f
		case '/':
			if f == 0 {
				return nil, fmt.Errorf("division by zero")
			}
			acc /= f
		}
	}
	return acc, nil
}

func intArith(op byte, args []any, rank int) (any, error) {
	acc := big.NewInt(toInt64(args[0]))
	for _, a := range args[1:] {
		b := big.NewInt(toInt64(a))
		switch op {
		case '+':
			acc.Add(acc, b)
		case '-':
			acc.Sub(acc, b)
		case '*':
			acc.Mul(acc, b)
		}
	}
	if !acc.IsInt64() {
		return float64(acc.Int64()), fmt.Errorf("integer overflow")
	}
	n := acc.Int64()
	if rank == 1 && n >= math.MinInt32 && n <= math.MaxInt32 {
		return int32(n), nil
	}
	return n, nil
}

// roundOp implements $round (half to even, as MongoDB) and $trunc.
func roundOp(trunc bool) opFunc {
	return func(args []any) (any, error) {
		if len(args) < 1 || len(args) > 2 {
			return nil, fmt.Errorf("want [number, places]")
		}
		x := args[0]
		places := int64(0)
		if len(args) == 2 {
			if isNullish(args[1]) {
				return nil, nil
			}
			places = toInt64(args[1])
		}
		if isNullish(x) {
			return nil, nil
		}
		switch n := x.(type) {
		case int32, int64:
			if places >= 0 {
				return n, nil
			}
		case float64:
			p := math.Pow(10, float64(places))
			if trunc {
				return math.Trunc(n*p) / p, nil
			}
			return math.RoundToEven(n*p) / p, nil
		case primitive.Decimal128:
			return ratToDec(roundRat(decToRat(n), places, trunc))
		default:
			return nil, fmt.Errorf("argument %v is not a number", x)
		}
		f := toFloat(x)
		p := math.Pow(10, float64(places))
		return toIntLike(x, math.Trunc(f*p)/p), nil
	}
}

func toIntLike(orig any, f float64) any {
	if _, ok := orig.(int32); ok {
		return int32(f)
	}
	return int64(f)
}

func roundRat(r *big.Rat, places int64, trunc bool) *big.Rat {
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(places)), nil))
	if places < 0 {
		scale.Inv(scale)
	}
	x := new(big.Rat).Mul(r, scale)
	q, m := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if !trunc {
		twice := new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2))
		c := twice.Cmp(x.Denom())
		if c > 0 || c == 0 && q.Bit(0) == 1 {
			q.Add(q, big.NewInt(int64(x.Sign())))
		}
	}
	return new(big.Rat).Quo(new(big.Rat).SetInt(q), scale)
}

func abs64(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}
