package mongo

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
)

func conv1(to string) opFunc {
	return func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("want one argument")
		}
		return convert(args[0], to)
	}
}

// convert implements MongoDB's $convert rules for the supported targets.
func convert(v any, to string) (any, error) {
	if isNullish(v) {
		return nil, nil
	}
	switch to {
	case "int", "long":
		n, err := toInteger(v)
		if err != nil {
			return nil, err
		}
		if to == "int" {
			if n < math.MinInt32 || n > math.MaxInt32 {
				return nil, fmt.Errorf("%v overflows int", v)
			}
			return int32(n), nil
		}
		return n, nil
	case "double":
		switch x := v.(type) {
		case string:
			return strconv.ParseFloat(strings.TrimSpace(x), 64)
		case bool:
			return map[bool]float64{true: 1, false: 0}[x], nil
		}
		if numRank(v) > 0 {
			return toFloat(v), nil
		}
	case "decimal":
		switch x := v.(type) {
		case string:
			return primitive.ParseDecimal128(strings.TrimSpace(x))
		case primitive.Decimal128:
			return x, nil
		case float64:
			return primitive.ParseDecimal128(strconv.FormatFloat(x, 'g', -1, 64))
		case int32, int64:
			return primitive.ParseDecimal128(strconv.FormatInt(toInt64(x), 10))
		}
	case "string":
		return toStr(v)
	case "bool":
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if numRank(v) > 0 {
			return toFloat(v) != 0, nil
		}
		return true, nil
	default:
		return nil, fmt.Errorf("conversion to %q is not supported", to)
	}
	return nil, fmt.Errorf("cannot convert %v (%T) to %s", v, v, to)
}

func toInteger(v any) (int64, error) {
	switch x := v.(type) {
	case string:
		return strconv.ParseInt(strings.TrimSpace(x), 10, 64)
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int32, int64:
		return toInt64(x), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) >= 9.2e18 {
			return 0, fmt.Errorf("%v cannot be an integer", x)
		}
		return int64(x), nil
	case primitive.Decimal128:
		r := roundRat(decToRat(x), 0, true)
		if !r.Num().IsInt64() {
			return 0, fmt.Errorf("%v overflows long", x)
		}
		return r.Num().Int64(), nil
	}
	return 0, fmt.Errorf("cannot convert %v (%T) to an integer", v, v)
}

func toStr(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int32, int64:
		return strconv.FormatInt(toInt64(x), 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case primitive.Decimal128:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case primitive.ObjectID:
		return x.Hex(), nil
	case primitive.DateTime:
		return x.Time().UTC().Format("2006-01-02T15:04:05.000Z"), nil
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	return nil, fmt.Errorf("cannot convert %T to string", v)
}

// convertOp: {$convert: {input, to, onError, onNull}}.
func convertOp(arg any, doc bson.Raw) (any, error) {
	spec, ok := arg.(bson.D)
	if !ok {
		return nil, fmt.Errorf("%w: $convert wants a document", errExpr)
	}
	m := map[string]any{}
	for _, e := range spec {
		m[e.Key] = e.Value
	}
	in, err := eval(m["input"], doc)
	if err != nil {
		return nil, err
	}
	to, _ := m["to"].(string)
	if isNullish(in) {
		if v, ok := m["onNull"]; ok {
			return eval(v, doc)
		}
		return nil, nil
	}
	out, err := convert(in, to)
	if err != nil {
		if v, ok := m["onError"]; ok {
			return eval(v, doc)
		}
		return nil, fmt.Errorf("%w: $convert: %v", errExpr, err)
	}
	return out, nil
}

// condOp: {$cond: {if, then, else}} or [if, then, else].
func condOp(arg any, doc bson.Raw) (any, error) {
	var c, t, f any
	switch x := arg.(type) {
	case bson.A:
		if len(x) != 3 {
			return nil, fmt.Errorf("%w: $cond wants [if, then, else]", errExpr)
		}
		c, t, f = x[0], x[1], x[2]
	case bson.D:
		for _, e := range x {
			switch e.Key {
			case "if":
				c = e.Value
			case "then":
				t = e.Value
			case "else":
				f = e.Value
			}
		}
	default:
		return nil, fmt.Errorf("%w: $cond wants a document or a list", errExpr)
	}
	cv, err := eval(c, doc)
	if err != nil {
		return nil, err
	}
	if truthy(cv) {
		return eval(t, doc)
	}
	return eval(f, doc)
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil, missingT:
		return false
	case bool:
		return x
	}
	if numRank(v) > 0 {
		return toFloat(v) != 0
	}
	return true
}

func concatOp(args []any) (any, error) {
	var b strings.Builder
	for _, a := range args {
		if isNullish(a) {
			return nil, nil
		}
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("argument %v is not a string", a)
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func caseOp(f func(string) string) opFunc {
	return func(args []any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("want one argument")
		}
		if isNullish(args[0]) {
			return "", nil
		}
		s, err := toStr(args[0])
		if err != nil {
			return nil, err
		}
		return f(s.(string)), nil
	}
}

func ifNullOp(args []any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("want at least two arguments")
	}
	for _, a := range args[:len(args)-1] {
		if !isNullish(a) {
			return a, nil
		}
	}
	return args[len(args)-1], nil
}

func cmpOp(ok func(int) bool) opFunc {
	return func(args []any) (any, error) {
		if len(args) != 2 {
			return nil, fmt.Errorf("want two arguments")
		}
		return ok(compare(args[0], args[1])), nil
	}
}

// compare orders values by MongoDB's type order, then by value.
func compare(a, b any) int {
	ra, rb := typeRank(a), typeRank(b)
	if ra != rb {
		return ra - rb
	}
	switch ra {
	case 2:
		return toRat(a).Cmp(toRat(b))
	case 3:
		return strings.Compare(a.(string), b.(string))
	case 8:
		return map[bool]int{false: 0, true: 1}[a.(bool)] - map[bool]int{false: 0, true: 1}[b.(bool)]
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}

func typeRank(v any) int {
	switch v.(type) {
	case nil, missingT:
		return 1
	case string:
		return 3
	case bson.D:
		return 4
	case bson.A:
		return 5
	case bool:
		return 8
	}
	if numRank(v) > 0 {
		return 2
	}
	return 9
}

func boolOp(and bool) opFunc {
	return func(args []any) (any, error) {
		for _, a := range args {
			if truthy(a) != and {
				return !and, nil
			}
		}
		return and, nil
	}
}

func notOp(args []any) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("want one argument")
	}
	return !truthy(args[0]), nil
}
