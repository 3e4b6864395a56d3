package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Range checksums. Each side of a match computes a checksum of every key
// range: the row count and the sums of two 64-bit row hashes (seeds 0 and
// 1: 128 bits). A PostgreSQL side computes it inside its database (see
// checksum_encoding.go for the row hash); a side that cannot (MongoDB,
// CockroachDB, a column SQL cannot normalise) streams the range and
// computes the same hashes in Go (checksum_go.go), when the other side
// hashes in SQL. Only ranges whose checksums differ are streamed from
// both sides and compared in Go.

// checksummable tells whether inv's ranges can be checksummed: a match
// without conditions, with at least one PostgreSQL side.
func checksummable(inv *Invariant, lr, rr reader) bool {
	if inv.Kind != KindMatch || len(inv.Left.Where) > 0 || len(inv.Right.Where) > 0 {
		return false
	}
	return isPostgres(lr) || isPostgres(rr)
}

func isPostgres(rd reader) bool {
	r, ok := rd.(*sqlReader)
	return ok && r.db.d.engine == dburl.Postgres
}

// checksumRange compares the range checksums of both sides, hashed in
// SQL; equal means the range needs no streaming.
func checksumRange(ctx context.Context, inv *Invariant, lr, rr reader, rng Range) (*rangeResult, bool, error) {
	var sums [2]rangeSum
	err := bothSides(lr.(*sqlReader), rr.(*sqlReader), func(r *sqlReader, i int) error {
		var err error
		sums[i], err = r.checksum(ctx, inv, i == 0, rng)
		return err
	})
	if err != nil || sums[0] != sums[1] {
		return nil, false, err
	}
	return &rangeResult{LeftRows: sums[0].count, RightRows: sums[1].count}, true, nil
}

// bothSides runs f for the left (0) and right (1) reader at once, in turn
// when both read the same database (one snapshot transaction per worker).
func bothSides(lr, rr *sqlReader, f func(r *sqlReader, i int) error) error {
	if lr.db == rr.db {
		if err := f(lr, 0); err != nil {
			return err
		}
		return f(rr, 1)
	}
	var errs [2]error
	var wg sync.WaitGroup
	for i, r := range []*sqlReader{lr, rr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(r, i)
		}()
	}
	wg.Wait()
	if errs[0] != nil {
		return errs[0]
	}
	return errs[1]
}

type rangeSum struct {
	count  int64
	h0, h1 string
}

func (r *sqlReader) checksum(ctx context.Context, inv *Invariant, left bool, rng Range) (rangeSum, error) {
	var s rangeSum
	err := r.db.inSnapshot(ctx, func(tx pgx.Tx) error {
		enc, err := r.encoding(ctx, tx, inv, left)
		if err != nil {
			return err
		}
		q, args := r.db.d.Checksum(r.src, enc, rng.Lo != nil, rng.Hi != nil)
		if rng.Lo != nil {
			args = append(args, keyParams(r.src.Key, rng.Lo)...)
		}
		if rng.Hi != nil {
			args = append(args, keyParams(r.src.Key, rng.Hi)...)
		}
		return tx.QueryRow(ctx, q, args...).Scan(&s.count, &s.h0, &s.h1)
	})
	if err != nil {
		return s, fmt.Errorf("source %s: checksum: %w", r.src.Name, err)
	}
	return s, nil
}

// Checksum returns the range checksum query over a row encoding.
func (d sqlDialect) Checksum(s *Source, enc rowEncoding, lo, hi bool) (string, []any) {
	var where []string
	n := 1
	if lo {
		where = append(where, d.compare(s.Key, ">=", n))
		n += len(s.Key)
	}
	if hi {
		where = append(where, d.compare(s.Key, "<", n))
	}
	q := "SELECT count(*), " + enc.sums() + " FROM (SELECT " + enc.norm + " FROM (" + s.SQL + ") AS " + srcAlias
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + " OFFSET 0) AS tm_n", nil
}

// mergeDiffering streams and compares the sub-ranges of rng whose
// checksums differ; skipped counts the others.
func mergeDiffering(ctx context.Context, inv *Invariant, lr, rr reader, rng Range, a, b []rangeSum, res *rangeResult) (*rangeResult, int, error) {
	skipped := 0
	for i, sub := range rng.Subs {
		if sameSum(a[i], b[i]) {
			skipped++
			continue
		}
		merged, err := mergeRange(ctx, inv, lr, rr, sub)
		if err != nil {
			return nil, 0, err
		}
		res.Suspects = append(res.Suspects, merged.Suspects...)
	}
	return res, skipped, nil
}

func sumCounts(s []rangeSum) int64 {
	var n int64
	for _, x := range s {
		n += x.count
	}
	return n
}

// subSums is the checksum of each sub-range of rng: in one query when
// they are buckets of equal key width, else one query each.
func (r *sqlReader) subSums(ctx context.Context, inv *Invariant, left bool, rng Range) ([]rangeSum, error) {
	if rng.step > 0 {
		return r.bucketSums(ctx, inv, left, rng)
	}
	out := make([]rangeSum, len(rng.Subs))
	for i, sub := range rng.Subs {
		var err error
		if out[i], err = r.checksum(ctx, inv, left, sub); err != nil {
			return nil, err
		}
	}
	return out, nil
}
