package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
)

// maxGroupRows is how many rows of one key a group keeps; aggregates keep
// one and fold every row into their sum and version.
const maxGroupRows = 1000

// group is all the rows of one key on one side (after the where filter).
type group struct {
	key     Key
	keyVals []any
	rows    []*Row
	n       int
	sum     *big.Rat
	vsum    vsum
	one     [1]*Row // rows' memory for the usual one row
}

// vsum combines row versions independently of row order (rows of one key
// come in no defined order): the 128-bit sum of their hashes, and a count.
type vsum struct {
	hi, lo uint64
	n      int
}

func (v *vsum) add(version string) {
	h := sha256.Sum256([]byte(version))
	v.hi += binary.BigEndian.Uint64(h[0:8])
	v.lo += binary.BigEndian.Uint64(h[8:16])
	v.n++
}

func (v *vsum) String() string { return fmt.Sprintf("%016x%016x.%d", v.hi, v.lo, v.n) }

// version identifies the rows of the group as observed.
func (g *group) version(side *Side) string {
	if g == nil {
		return ""
	}
	if g.sum != nil {
		return g.vsum.String()
	}
	if g.n == 1 {
		return rowVersion(side.Source, g.rows[0])
	}
	var v vsum
	for _, r := range g.rows {
		v.add(rowVersion(side.Source, r))
	}
	return v.String()
}

// rowVersion is the row's version column, or a 128-bit hash of the row.
func rowVersion(src *Source, r *Row) string {
	if src.Version != "" {
		if v, ok := r.Get(src.Version); ok {
			return "v:" + displayString(v)
		}
	}
	return hashRow(r)
}

// hashRow hashes a length-prefixed encoding of every column name and value.
func hashRow(r *Row) string {
	h := sha256.New()
	writeRow(h, r)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func writeRow(h hash.Hash, r *Row) {
	var b [8]byte
	for i, n := range r.Names {
		for _, s := range []string{n, fmt.Sprintf("%T", r.Vals[i]), displayString(r.Vals[i])} {
			binary.BigEndian.PutUint64(b[:], uint64(len(s)))
			h.Write(b[:])
			h.Write([]byte(s))
		}
	}
}

// grouper reads one side's stream as groups of equal keys.
type grouper struct {
	s     stream
	side  *Side
	field *Field // aggregate: the summed field (nil for count)
	agg   bool
	peek  *Row
	rows  int64 // rows read (before the where filter)
	spare [2]group
	turn  int
	last  *group // the group returned last, dead at the next call
	rc    recycler
	rcSet bool
}

// recycler is a stream that takes back rows nobody refers to any more.
type recycler interface{ recycle(rows []*Row) }

// newGroup returns one of two groups in turn: a group lives until the
// next call after the one that returned it (the merge holds one group per
// side at a time). The rows of the group before are handed back to the
// stream.
func (g *grouper) newGroup(first *Row) *group {
	if !g.rcSet {
		g.rc, _ = g.s.(recycler)
		g.rcSet = true
	}
	if g.rc != nil && g.last != nil && !g.agg {
		g.rc.recycle(g.last.rows)
	}
	grp := &g.spare[g.turn]
	g.turn = 1 - g.turn
	*grp = group{key: first.Key, keyVals: first.KeyVals}
	grp.rows = grp.one[:0]
	g.last = grp
	return grp
}

func (g *grouper) nextRow(ctx context.Context) (*Row, error) {
	for {
		r, err := g.s.Next(ctx)
		if err != nil || r == nil {
			return nil, err
		}
		g.rows++
		if matchWhere(g.side.Where, r) {
			return r, nil
		}
	}
}

func (g *grouper) next(ctx context.Context) (*group, error) {
	first := g.peek
	g.peek = nil
	if first == nil {
		var err error
		if first, err = g.nextRow(ctx); err != nil || first == nil {
			return nil, err
		}
	}
	grp := g.newGroup(first)
	if g.agg {
		grp.sum = new(big.Rat)
	}
	if err := g.add(grp, first); err != nil {
		return nil, err
	}
	for {
		r, err := g.nextRow(ctx)
		if err != nil {
			return nil, err
		}
		if r == nil {
			return grp, nil
		}
		switch c := r.Key.Compare(grp.key); {
		case c < 0:
			return nil, fmt.Errorf("source %s is not in key order at %s (after %s): check its key types", g.side.Source.Name, keyString(r.KeyVals), keyString(grp.keyVals))
		case c > 0:
			g.peek = r
			return grp, nil
		}
		if err := g.add(grp, r); err != nil {
			return nil, err
		}
	}
}

func (g *grouper) add(grp *group, r *Row) error {
	grp.n++
	if len(grp.rows) < maxGroupRows && (!g.agg || grp.n == 1) {
		grp.rows = append(grp.rows, r)
	}
	if !g.agg {
		return nil
	}
	grp.vsum.add(rowVersion(g.side.Source, r))
	if g.side.Count {
		grp.sum.Add(grp.sum, big.NewRat(1, 1))
		return nil
	}
	v, ok := r.Get(g.side.Sum)
	if !ok || v == nil {
		return nil
	}
	x, err := toRat(v)
	if err != nil {
		return fmt.Errorf("source %s: %s at %s: %w", g.side.Source.Name, g.side.Sum, keyString(r.KeyVals), err)
	}
	grp.sum.Add(grp.sum, x)
	return nil
}

// matchWhere keeps rows whose columns equal one of the listed values.
func matchWhere(conds []Condition, r *Row) bool {
	for _, c := range conds {
		v, ok := r.Get(c.Column)
		s := "null"
		if ok && v != nil {
			s = displayString(v)
		}
		hit := false
		for _, want := range c.Values {
			if want == s {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	return true
}

// sliceStream streams rows already read (lookups), sorted by key.
type sliceStream struct {
	rows []*Row
	i    int
}

func (s *sliceStream) Next(context.Context) (*Row, error) {
	if s.i >= len(s.rows) {
		return nil, nil
	}
	s.i++
	return s.rows[s.i-1], nil
}

func (s *sliceStream) Close(context.Context) {}
