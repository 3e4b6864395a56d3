package reconcile

import (
	"context"
	"errors"
	"sync"

	"github.com/jackc/pgx/v5"
)

// hashSides tells, for each side of inv (left, right), whether its rows
// are hashed in SQL: a PostgreSQL source whose columns SQL normalises as
// Go does. A side that is not hashes its rows in Go.
type hashSides [2]bool

// String is Counts.Checksums.
func (h hashSides) String() string {
	switch {
	case h.both():
		return "sql"
	case h[0]:
		return "left-sql,right-go"
	case h[1]:
		return "left-go,right-sql"
	}
	return "off"
}

func (h hashSides) any() bool  { return h[0] || h[1] }
func (h hashSides) both() bool { return h[0] && h[1] }

// sidesHashedInSQL finds out how each side of inv hashes its rows; none
// when checksums are off or inv cannot use them.
func (c *checker) sidesHashedInSQL(ctx context.Context, inv *Invariant, lr, rr reader) (hashSides, error) {
	var h hashSides
	if c.opts.NoChecksums || !checksummable(inv, lr, rr) {
		return h, nil
	}
	for i, rd := range []reader{lr, rr} {
		if !isPostgres(rd) {
			continue
		}
		r := rd.(*sqlReader)
		err := r.db.inSnapshot(ctx, func(tx pgx.Tx) error {
			_, err := r.encoding(ctx, tx, inv, i == 0)
			return err
		})
		if err != nil && !errors.Is(err, errNoSQLHash) {
			return h, err
		}
		h[i] = err == nil
	}
	return h, nil
}

// compareHalfGo compares a range whose one side hashes its rows in SQL and
// the other in Go (streaming the range once): sub-ranges whose checksums
// are equal are done; only those that differ are streamed from both sides
// and compared. skipped counts the sub-ranges found equal.
func (c *checker) compareHalfGo(ctx context.Context, inv *Invariant, lr, rr reader, sqlLeft bool, rng Range) (*rangeResult, int, error) {
	h, err := halfGoSums(ctx, inv, lr, rr, sqlLeft, rng)
	if err != nil {
		return nil, 0, err
	}
	res := &rangeResult{LeftRows: h.goWhole.count, RightRows: h.goWhole.count}
	if sqlRows := max(h.sqlWhole.count, sumCounts(h.sqlSubs)); sqlLeft {
		res.LeftRows = sqlRows
	} else {
		res.RightRows = sqlRows
	}
	if rng.step == 0 {
		if sameSum(h.goWhole, h.sqlWhole) {
			return res, max(1, len(rng.Subs)), nil
		}
		if len(rng.Subs) == 0 {
			merged, err := mergeRange(ctx, inv, lr, rr, rng)
			return merged, 0, err
		}
		if h.sqlSubs, err = h.sq.subSums(ctx, inv, sqlLeft, rng); err != nil {
			return nil, 0, err
		}
	}
	return mergeDiffering(ctx, inv, lr, rr, rng, h.goSubs, h.sqlSubs, res)
}

// halfSums is a range's checksums from a side hashed in Go (the whole
// range and its sub-ranges) and from one hashed in SQL (the sub-ranges'
// when they are buckets, else the whole range's).
type halfSums struct {
	sq                *sqlReader
	goWhole, sqlWhole rangeSum
	goSubs, sqlSubs   []rangeSum
}

// halfGoSums computes both sides' checksums of rng at once.
func halfGoSums(ctx context.Context, inv *Invariant, lr, rr reader, sqlLeft bool, rng Range) (halfSums, error) {
	sr, gr, g := rr, lr, &goHasher{key: inv.Left.Source.Key, fields: inv.Fields, left: true}
	if sqlLeft {
		sr, gr, g = lr, rr, &goHasher{key: inv.Right.Source.Key, fields: inv.Fields}
	}
	h := halfSums{sq: sr.(*sqlReader)}
	var goErr, sqlErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.goWhole, h.goSubs, goErr = goSums(ctx, g, gr, rng)
	}()
	if rng.step > 0 {
		h.sqlSubs, sqlErr = h.sq.subSums(ctx, inv, sqlLeft, rng)
	} else {
		h.sqlWhole, sqlErr = h.sq.checksum(ctx, inv, sqlLeft, rng)
	}
	wg.Wait()
	return h, errors.Join(goErr, sqlErr)
}
