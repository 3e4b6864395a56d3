package reconcile

import (
	"bytes"

	"github.com/jackc/pgx/v5/pgtype"
)

// rowArena hands out streamed rows, their value slices and their encoded
// keys from shared chunks, so a row costs a share of a few allocations
// instead of several of its own (the compare loop is allocation-bound). A
// row kept by the merge keeps its chunk alive; chunks are small, so memory
// stays bounded by the rows in flight.
type rowArena struct {
	free  []*Row // recycled rows (see recycle)
	rows  []Row
	vals  []any
	keys  []byte
	chunk int
	strs  []internTable // per column
}

const maxArenaRows = 256

func (a *rowArena) grow() int {
	a.chunk = min(max(2*a.chunk, 8), maxArenaRows)
	return a.chunk
}

// row returns a zeroed row with Vals and KeyVals of the given lengths.
func (a *rowArena) row(ncols, nkey int) *Row {
	if n := len(a.free); n > 0 {
		r := a.free[n-1]
		a.free = a.free[:n-1]
		return r
	}
	if len(a.rows) == 0 {
		a.rows = make([]Row, a.grow())
	}
	r := &a.rows[0]
	a.rows = a.rows[1:]
	n := ncols + nkey
	if len(a.vals) < n {
		a.vals = make([]any, n*max(a.chunk, 1))
	}
	r.Vals = a.vals[:ncols:ncols]
	r.KeyVals = a.vals[ncols:n:n]
	a.vals = a.vals[n:]
	return r
}

// recycle takes back rows nothing refers to any more: they are handed out
// again, Vals, KeyVals and Key memory included.
func (a *rowArena) recycle(rows []*Row) {
	if len(a.free) < maxArenaRows {
		a.free = append(a.free, rows...)
	}
}

// key encodes a key into old's memory when it fits, else into the arena's
// key bytes.
func (a *rowArena) key(old Key, cols []KeyColumn, vals []any) (Key, error) {
	if old != nil {
		k, err := encodeKey(old[:0], cols, vals)
		if err == nil && cap(k) == cap(old) {
			return k, nil
		}
	}
	if cap(a.keys) < 64 {
		a.keys = make([]byte, 0, 32*max(a.chunk, 8))
	}
	k, err := encodeKey(a.keys[:0], cols, vals)
	if err != nil {
		return nil, err
	}
	if len(k) <= cap(a.keys) && cap(k) == cap(a.keys) { // written in place
		a.keys = a.keys[len(k):len(k):cap(a.keys)][:0]
		return k[:len(k):len(k)], nil
	}
	return k, nil
}

// internTable shares the decoded values of a text or numeric column's
// frequent short values (statuses, currencies, prices): the first
// maxInterned distinct values are kept, boxed once; the last value seen is
// checked first.
type internTable struct {
	m        map[string]any
	last     []byte
	lastVal  any
	lastSeen bool
}

const (
	maxInterned    = 1024
	maxInternedLen = 32
)

func internable(oid uint32, b []byte) bool {
	if b == nil || len(b) > maxInternedLen {
		return false
	}
	switch oid {
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.NumericOID:
		return true
	}
	return false
}

func (t *internTable) lookup(oid uint32, b []byte) (any, bool) {
	if !internable(oid, b) {
		return nil, false
	}
	if t.lastSeen && bytes.Equal(t.last, b) {
		return t.lastVal, true
	}
	v, ok := t.m[string(b)]
	if ok {
		t.last, t.lastVal, t.lastSeen = append(t.last[:0], b...), v, true
	}
	return v, ok
}

func (t *internTable) add(oid uint32, b []byte, v any) {
	if !internable(oid, b) {
		return
	}
	t.last, t.lastVal, t.lastSeen = append(t.last[:0], b...), v, true
	if len(t.m) >= maxInterned {
		return
	}
	if t.m == nil {
		t.m = map[string]any{}
	}
	t.m[string(b)] = v
}
