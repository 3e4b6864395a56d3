package mongo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// FerretDB v1.24 has no update pipelines and no aggregation operators beyond
// $sum and $type, so tidemark evaluates up/down expressions itself, in Go,
// for the subset below, and writes the results with conditional updates.

// missing is the value of a field path that names no field.
type missingT struct{}

var missing = missingT{}

// errExpr marks an expression that cannot be evaluated for a document.
var errExpr = errors.New("expression")

type opFunc func(args []any) (any, error)

// exprOps is the supported subset (documented in doc.go and the README).
var exprOps = map[string]opFunc{
	"$toInt": conv1("int"), "$toLong": conv1("long"), "$toDouble": conv1("double"),
	"$toDecimal": conv1("decimal"), "$toString": conv1("string"), "$toBool": conv1("bool"),
	"$add": arith('+'), "$subtract": arith('-'), "$multiply": arith('*'), "$divide": arith('/'),
	"$round": roundOp(false), "$trunc": roundOp(true),
	"$concat": concatOp, "$toLower": caseOp(strings.ToLower), "$toUpper": caseOp(strings.ToUpper),
	"$ifNull": ifNullOp,
	"$eq":     cmpOp(func(c int) bool { return c == 0 }), "$ne": cmpOp(func(c int) bool { return c != 0 }),
	"$gt": cmpOp(func(c int) bool { return c > 0 }), "$gte": cmpOp(func(c int) bool { return c >= 0 }),
	"$lt": cmpOp(func(c int) bool { return c < 0 }), "$lte": cmpOp(func(c int) bool { return c <= 0 }),
	"$and": boolOp(true), "$or": boolOp(false), "$not": notOp,
}

// special operators handle their own arguments.
var specialOps = map[string]bool{"$literal": true, "$convert": true, "$cond": true}

// SupportedOperators lists the aggregation operators tidemark evaluates.
func SupportedOperators() []string {
	var s []string
	for k := range exprOps {
		s = append(s, k)
	}
	for k := range specialOps {
		s = append(s, k)
	}
	sort.Strings(s)
	return s
}

// checkExpr rejects operators outside the supported subset (at parse time).
func checkExpr(e any) error {
	switch v := e.(type) {
	case bson.D:
		if len(v) == 1 && strings.HasPrefix(v[0].Key, "$") {
			k := v[0].Key
			if _, ok := exprOps[k]; !ok && !specialOps[k] {
				return fmt.Errorf("operator %s is not supported (supported: %s)", k, strings.Join(SupportedOperators(), " "))
			}
			if k == "$literal" {
				return nil
			}
		}
		for _, el := range v {
			if err := checkExpr(el.Value); err != nil {
				return err
			}
		}
	case bson.A:
		for _, el := range v {
			if err := checkExpr(el); err != nil {
				return err
			}
		}
	case string:
		if strings.HasPrefix(v, "$$") {
			return fmt.Errorf("variable %s is not supported", v)
		}
	}
	return nil
}

// fieldRefs returns the field paths ("$a.b" -> "a.b") an expression reads.
func fieldRefs(e any) []string {
	var out []string
	var walk func(any)
	walk = func(e any) {
		switch v := e.(type) {
		case bson.D:
			if len(v) == 1 && v[0].Key == "$literal" {
				return
			}
			for _, el := range v {
				walk(el.Value)
			}
		case bson.A:
			for _, el := range v {
				walk(el)
			}
		case string:
			if strings.HasPrefix(v, "$") && !strings.HasPrefix(v, "$$") {
				out = append(out, v[1:])
			}
		}
	}
	walk(e)
	return out
}

// eval evaluates e against doc. The result is a bson-marshalable Go value,
// nil for null, or missing.
func eval(e any, doc bson.Raw) (any, error) {
	switch v := e.(type) {
	case string:
		if strings.HasPrefix(v, "$") {
			return lookup(doc, v[1:]), nil
		}
		return v, nil
	case bson.A:
		out := make(bson.A, len(v))
		for i, el := range v {
			r, err := eval(el, doc)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case bson.D:
		if len(v) == 1 && strings.HasPrefix(v[0].Key, "$") {
			return evalOp(v[0].Key, v[0].Value, doc)
		}
		out := bson.D{}
		for _, el := range v {
			r, err := eval(el.Value, doc)
			if err != nil {
				return nil, err
			}
			if r != missing {
				out = append(out, bson.E{Key: el.Key, Value: r})
			}
		}
		return out, nil
	}
	return e, nil
}

func evalOp(op string, arg any, doc bson.Raw) (any, error) {
	switch op {
	case "$literal":
		return arg, nil
	case "$convert":
		return convertOp(arg, doc)
	case "$cond":
		return condOp(arg, doc)
	}
	f, ok := exprOps[op]
	if !ok {
		return nil, fmt.Errorf("%w: operator %s is not supported", errExpr, op)
	}
	list, isList := arg.(bson.A)
	if !isList {
		list = bson.A{arg}
	}
	args := make([]any, len(list))
	for i, a := range list {
		r, err := eval(a, doc)
		if err != nil {
			return nil, err
		}
		args[i] = r
	}
	r, err := f(args)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errExpr, op, err)
	}
	return r, nil
}

// lookup reads a (dotted) field path as a Go value, or missing.
func lookup(doc bson.Raw, path string) any {
	rv, err := doc.LookupErr(strings.Split(path, ".")...)
	if err != nil {
		return missing
	}
	return rawToGo(rv)
}

func rawToGo(rv bson.RawValue) any {
	switch rv.Type {
	case bsontype.Null, bsontype.Undefined:
		return nil
	case bsontype.Int32:
		return rv.Int32()
	case bsontype.Int64:
		return rv.Int64()
	case bsontype.Double:
		return rv.Double()
	case bsontype.String:
		return rv.StringValue()
	case bsontype.Boolean:
		return rv.Boolean()
	case bsontype.Decimal128:
		return rv.Decimal128()
	}
	var v any
	if err := rv.Unmarshal(&v); err != nil {
		return rv
	}
	return v
}

func isNullish(v any) bool { return v == nil || v == missing }
