package reconcile

import (
	"context"
	"math/big"
)

// suspect is a difference seen in the first pass: the key, the break kind
// and the versions of both sides as observed. It is confirmed (a break) or
// dismissed (in flight) by the re-check after the grace period.
type suspect struct {
	Invariant string `json:"invariant"`
	Kind      string `json:"kind"`
	Key       []any  `json:"key"` // canonical key values
	Left      string `json:"left_version"`
	Right     string `json:"right_version"`
}

// finding is what evaluating one key found.
type finding struct {
	kind        string
	left, right *group
	diffs       []FieldDiff
}

// FieldDiff is one field that differs in a mismatch.
type FieldDiff struct {
	Field string `json:"field"`
	Left  any    `json:"left"`
	Right any    `json:"right"`
}

// evalKey judges one key with its left and right groups (either may be nil).
func evalKey(inv *Invariant, l, r *group) *finding {
	switch inv.Kind {
	case KindMatch:
		switch {
		case r == nil:
			return &finding{kind: BreakMissingRight, left: l}
		case l == nil:
			return &finding{kind: BreakMissingLeft, right: r}
		case l.n > 1 || r.n > 1:
			return &finding{kind: BreakDuplicate, left: l, right: r}
		}
		if d := compareFields(inv.Fields, l.rows[0], r.rows[0]); len(d) > 0 {
			return &finding{kind: BreakMismatch, left: l, right: r, diffs: d}
		}
	case KindExists:
		if l != nil && r == nil {
			return &finding{kind: BreakMissing, left: l}
		}
	case KindNotExists:
		if l != nil && r != nil {
			return &finding{kind: BreakUnexpected, left: l, right: r}
		}
	case KindAggregate:
		return evalAggregate(inv, l, r)
	}
	return nil
}

func compareFields(fields []*Field, l, r *Row) []FieldDiff {
	var out []FieldDiff
	for _, f := range fields {
		lv, lok := l.Get(f.Left)
		rv, rok := r.Get(f.Right)
		a, b := normalize(f, lv, lok, f.LeftUnit), normalize(f, rv, rok, f.RightUnit)
		if !equalNorm(f, a, b) {
			out = append(out, FieldDiff{Field: f.Name, Left: a.render(f), Right: b.render(f)})
		}
	}
	return out
}

func evalAggregate(inv *Invariant, l, r *group) *finding {
	f := inv.Fields[0]
	sum := new(big.Rat)
	if r != nil {
		sum = r.sum
	}
	agg := normalize(f, Decimal(sum.FloatString(12)), true, f.RightUnit)
	if l == nil {
		if agg.kind == normValue && agg.i == 0 {
			return nil
		}
		return &finding{kind: BreakMissingLeft, right: r, diffs: []FieldDiff{{Field: f.Name, Left: "(missing)", Right: agg.render(f)}}}
	}
	lv, ok := l.rows[0].Get(f.Left)
	a := normalize(f, lv, ok, f.LeftUnit)
	if a.kind == normNull || a.kind == normAbsent {
		a = norm{kind: normValue} // no value: nothing reserved
	}
	if equalNorm(f, a, agg) {
		return nil
	}
	return &finding{kind: BreakMismatch, left: l, right: r, diffs: []FieldDiff{{Field: f.Name, Left: a.render(f), Right: agg.render(f)}}}
}

// rangeResult is what one range of one invariant produced.
type rangeResult struct {
	LeftRows, RightRows int64
	Suspects            []suspect
}

// mergeRange streams both sides of rng in key order and collects suspects.
func mergeRange(ctx context.Context, inv *Invariant, lr, rr reader, rng Range) (*rangeResult, error) {
	ls, err := lr.Stream(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer ls.Close(ctx)
	rs, err := rr.Stream(ctx, rng)
	if err != nil {
		return nil, err
	}
	defer rs.Close(ctx)
	lg := &grouper{s: ls, side: &inv.Left}
	rg := &grouper{s: rs, side: &inv.Right, agg: inv.Kind == KindAggregate}
	res := &rangeResult{}
	err = mergeGroups(ctx, inv, lg, rg, func(f *finding) {
		res.Suspects = append(res.Suspects, toSuspect(inv, f))
	})
	res.LeftRows, res.RightRows = lg.rows, rg.rows
	return res, err
}

func mergeGroups(ctx context.Context, inv *Invariant, lg, rg *grouper, emit func(*finding)) error {
	l, err := lg.next(ctx)
	if err != nil {
		return err
	}
	r, err := rg.next(ctx)
	if err != nil {
		return err
	}
	for l != nil || r != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		var a, b *group
		switch {
		case r == nil || l != nil && l.key.Compare(r.key) < 0:
			a = l
		case l == nil || l.key.Compare(r.key) > 0:
			b = r
		default:
			a, b = l, r
		}
		if f := evalKey(inv, a, b); f != nil {
			emit(f)
		}
		if a != nil {
			if l, err = lg.next(ctx); err != nil {
				return err
			}
		}
		if b != nil {
			if r, err = rg.next(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func toSuspect(inv *Invariant, f *finding) suspect {
	g := f.left
	if g == nil {
		g = f.right
	}
	src := inv.Left.Source
	if f.left == nil {
		src = inv.Right.Source
	}
	return suspect{
		Invariant: inv.Name, Kind: f.kind,
		Key:  jsonKey(src.Key, g.keyVals),
		Left: f.left.version(&inv.Left), Right: f.right.version(&inv.Right),
	}
}

// jsonKey converts key values as read to canonical JSON-friendly values.
func jsonKey(cols []KeyColumn, vals []any) []any {
	out := canonicalKey(cols, vals)
	for i, v := range out {
		if u, ok := v.([16]byte); ok {
			out[i] = UUID(u).String()
		}
	}
	return out
}
