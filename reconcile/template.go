package reconcile

import (
	"fmt"
	"math/big"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// resolver gives the values of :key.col, :left.col and :right.col for a break.
type resolver struct {
	inv *Invariant
	b   *Break
}

func (r resolver) value(scope, col string) (any, error) {
	switch scope {
	case "key":
		for i, k := range r.inv.Left.Source.Key {
			if k.Name == col || r.inv.Right.Source.Key[i].Name == col {
				return plain(r.b.KeyValues[i]), nil
			}
		}
	case "left":
		if v, ok := r.b.Left[col]; ok {
			return plain(v), nil
		}
	case "right":
		if r.inv.Kind == KindAggregate && (col == "sum" || col == "count") {
			if col == "count" {
				return int64(r.b.RightRows), nil
			}
			if r.b.Aggregate == nil {
				return int64(0), nil
			}
			return r.b.Aggregate, nil
		}
		if v, ok := r.b.Right[col]; ok {
			return plain(v), nil
		}
	}
	return nil, fmt.Errorf(":%s.%s: no such value in the %s break of %s", scope, col, r.b.Kind, r.b.Key)
}

// plain converts source values to plain Go values for drivers and JSON.
func plain(v any) any {
	switch x := v.(type) {
	case UUID:
		return x.String()
	case [16]byte:
		return UUID(x).String()
	case Decimal:
		return string(x)
	case NaiveTime:
		return time.Time(x)
	}
	return v
}

// sqlTemplate replaces placeholders with $n bind parameters.
func (r resolver) sqlTemplate(stmt string) (string, []any, error) {
	var params []any
	var err error
	index := map[string]int{}
	out := placeholderRE.ReplaceAllStringFunc(stmt, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		name := sub[2] + "." + sub[3]
		if n, ok := index[name]; ok {
			return sub[1] + fmt.Sprintf("$%d", n)
		}
		v, e := r.value(sub[2], sub[3])
		if e != nil && err == nil {
			err = e
		}
		params = append(params, v)
		index[name] = len(params)
		return sub[1] + fmt.Sprintf("$%d", len(params))
	})
	return out, params, err
}

// docTemplate replaces string values that are exactly one placeholder by
// the typed value, and placeholders inside longer strings by their text.
func (r resolver) docTemplate(v any) (any, error) {
	switch x := v.(type) {
	case bson.D:
		out := make(bson.D, len(x))
		for i, e := range x {
			val, err := r.docTemplate(e.Value)
			if err != nil {
				return nil, err
			}
			out[i] = bson.E{Key: e.Key, Value: val}
		}
		return out, nil
	case bson.A:
		out := make(bson.A, len(x))
		for i, e := range x {
			val, err := r.docTemplate(e)
			if err != nil {
				return nil, err
			}
			out[i] = val
		}
		return out, nil
	case string:
		return r.stringTemplate(x)
	}
	return v, nil
}

func (r resolver) stringTemplate(s string) (any, error) {
	if m := placeholderRE.FindStringSubmatch(s); m != nil && m[0] == s && m[1] == "" {
		return r.value(m[2], m[3])
	}
	var err error
	out := placeholderRE.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholderRE.FindStringSubmatch(m)
		v, e := r.value(sub[2], sub[3])
		if e != nil && err == nil {
			err = e
		}
		return sub[1] + displayString(v)
	})
	return out, err
}

// amount evaluates a fixup's amount template in minor units.
func (r resolver) amount(f *Fixup) (int64, error) {
	if strings.TrimSpace(f.Amount) == "" {
		return 0, nil
	}
	v, err := r.stringTemplate(strings.TrimSpace(f.Amount))
	if err != nil {
		return 0, err
	}
	rat, err := toRat(v)
	if err != nil {
		return 0, fmt.Errorf("amount: %w", err)
	}
	if f.AmountUnit == "major" {
		rat.Mul(rat, big.NewRat(100, 1))
	}
	n, err := roundRat(rat)
	if n < 0 {
		n = -n
	}
	return n, err
}
