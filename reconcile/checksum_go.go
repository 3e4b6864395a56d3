package reconcile

import (
	"context"
	"math"
	"math/big"
	"math/bits"
	"math/rand/v2"
	"time"
)

// Range checksums computed in Go. A side that cannot hash its rows in SQL
// (a MongoDB or CockroachDB source, or a PostgreSQL column SQL cannot
// normalise as Go does) streams its range once and hashes each row here,
// exactly as rowHash does in SQL (pghash.go), from the very values the
// comparison uses: the other side, hashed in its database, then streams
// only the sub-ranges whose checksums differ.

// goPart is one normalised value of a row, ready to hash.
type goPart struct {
	kind hashKind
	null bool
	i    int64 // int8; timestamp: µs since 2000-01-01
	s    string
}

// hash links the value to the chain h, as hashPart.link and the NULL
// chain of rowHash do.
func (p goPart) hash(h uint64) uint64 {
	if p.null {
		h ^= 1
		p.i, p.s = 0, ""
		if p.kind == hashTimestamp {
			p.i = -pgEpochMicros // 'epoch'::timestamp
		}
	}
	if p.kind == hashText {
		return pgHashText(p.s, h)
	}
	return pgHashInt8(p.i, h)
}

// goHasher hashes the rows of one side of a match.
type goHasher struct {
	key    []KeyColumn
	fields []*Field
	left   bool
	parts  []goPart // reused
}

// row returns the row's two hashes (seeds 0 and 1).
func (g *goHasher) row(r *Row) (uint64, uint64) {
	g.parts = g.parts[:0]
	for i, k := range g.key {
		g.parts = append(g.parts, keyPart(k.Type, r.KeyVals[i]))
	}
	for _, f := range g.fields {
		col, unit := f.Right, f.RightUnit
		if g.left {
			col, unit = f.Left, f.LeftUnit
		}
		raw, ok := r.Get(col)
		g.parts = append(g.parts, fieldPart(f, normalize(f, raw, ok, unit)))
	}
	h0, h1 := uint64(0), uint64(1)
	for _, p := range g.parts {
		h0, h1 = p.hash(h0), p.hash(h1)
	}
	return h0, h1
}

// keyPart is a key value as rowParts hashes it.
func keyPart(t KeyType, raw any) goPart {
	if i, ok := raw.(int64); ok && t == KeyInt {
		return goPart{kind: hashInt8, i: i}
	}
	v, err := keyValue(t, raw)
	if err != nil {
		return randomPart()
	}
	switch t {
	case KeyInt:
		return goPart{kind: hashInt8, i: v.(int64)}
	case KeyTimestamp:
		return goPart{kind: hashInt8, i: datePartMicros(v.(int64))}
	case KeyUUID:
		return goPart{kind: hashText, s: UUID(v.([16]byte)).String()}
	}
	return goPart{kind: hashText, s: v.(string)}
}

// fieldPart is a normalised field value as fieldSQL hashes it. A value
// Go reports whatever the other side holds (one it cannot read; a
// missing field when NULL and missing differ) gets a random hash, so its
// range differs and is streamed.
func fieldPart(f *Field, n norm) goPart {
	kind, whole := hashInt8, false
	switch f.Type {
	case FieldText, FieldUUID:
		kind = hashText
	case FieldTimestamp:
		whole = tolerance(f) == 0 && f.Precision <= time.Microsecond
		if whole {
			kind = hashTimestamp
		}
	}
	switch {
	case n.kind == normInvalid || n.kind == normAbsent && f.NullsDistinct:
		return randomPart()
	case n.kind != normValue:
		return goPart{kind: kind, null: true}
	case kind == hashText:
		return goPart{kind: kind, s: n.s}
	case whole:
		return goPart{kind: kind, i: n.i - pgEpochMicros}
	}
	v := n.i
	if f.Type == FieldTimestamp {
		v = datePartMicros(v)
	}
	if tol := tolerance(f); tol > 0 {
		v = floorDiv(v, tol)
	}
	return goPart{kind: kind, i: v}
}

func randomPart() goPart { return goPart{kind: hashInt8, i: rand.Int64()} }

// datePartMicros is (date_part('epoch', ts) * 1000000)::int8 for the
// timestamp of us µs since the Unix epoch: the same float8 arithmetic,
// rounded half to even as rint does (exact for realistic timestamps).
func datePartMicros(us int64) int64 {
	pg := us - pgEpochMicros
	secs := (float64(pg) - float64(-pgEpochMicros)) / 1000000.0
	return int64(math.RoundToEven(secs * 1000000))
}

// floorDiv is floor(a::numeric / b)::int8, a tolerance bucket. (SQL's
// numeric division rounds a quotient of 16 digits or more; its range's
// checksums then differ and it is streamed: time lost, never a break.)
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// sum128 is an exact sum of int64s (SQL's sum(int8) is numeric).
type sum128 struct {
	hi int64
	lo uint64
}

func (s *sum128) add(v int64) {
	var c uint64
	s.lo, c = bits.Add64(s.lo, uint64(v), 0)
	s.hi += int64(c)
	if v < 0 {
		s.hi--
	}
}

func (s sum128) String() string {
	b := new(big.Int).Lsh(big.NewInt(s.hi), 64)
	return b.Add(b, new(big.Int).SetUint64(s.lo)).String()
}

// goSum accumulates a range checksum.
type goSum struct {
	count  int64
	h0, h1 sum128
}

func (a *goSum) add(h0, h1 uint64) {
	a.count++
	a.h0.add(int64(h0))
	a.h1.add(int64(h1))
}

func (a *goSum) sum() rangeSum {
	return rangeSum{count: a.count, h0: a.h0.String(), h1: a.h1.String()}
}

// sameSum compares range checksums (an empty range's sums are its count).
func sameSum(a, b rangeSum) bool {
	return a.count == b.count && (a.count == 0 || a.h0 == b.h0 && a.h1 == b.h1)
}

// goSums streams rng from rd and returns its checksum and those of its
// sub-ranges, in one pass. A key seen twice gets a random hash, so its
// sub-range is streamed and the duplicate reported even when the other
// side holds the same two rows.
func goSums(ctx context.Context, g *goHasher, rd reader, rng Range) (rangeSum, []rangeSum, error) {
	st, err := rd.Stream(ctx, rng)
	if err != nil {
		return rangeSum{}, nil, err
	}
	defer st.Close(ctx)
	var whole goSum
	var prev Key
	subs, j := make([]goSum, len(rng.Subs)), 0
	for {
		row, err := st.Next(ctx)
		if err != nil || row == nil {
			out := make([]rangeSum, len(subs))
			for i := range subs {
				out[i] = subs[i].sum()
			}
			return whole.sum(), out, err
		}
		h0, h1 := g.row(row)
		if prev != nil && row.Key.Compare(prev) == 0 {
			h0 ^= rand.Uint64()
		}
		prev = append(prev[:0], row.Key...)
		whole.add(h0, h1)
		for j < len(subs)-1 && rng.Subs[j].HiKey != nil && row.Key.Compare(rng.Subs[j].HiKey) >= 0 {
			j++
		}
		if len(subs) > 0 {
			subs[j].add(h0, h1)
		}
	}
}
