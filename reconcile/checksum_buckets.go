package reconcile

import (
	"context"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
)

// Bucketed range checksums. A range with one integer key column and both
// bounds is cut into sub-ranges of equal key width (splitRange), and each
// side returns the checksums of all of them in ONE query, grouped by
// (key - lo) / step: the range is hashed once, whatever number of its
// sub-ranges differ, and only those are streamed.

// splitRange cuts a bounded single-integer-key range into n sub-ranges of
// equal key width; ok is false when it cannot.
func splitRange(key []KeyColumn, rng Range, n int) (subs []Range, step int64, ok bool) {
	if len(key) != 1 || key[0].Type != KeyInt || rng.Lo == nil || rng.Hi == nil {
		return nil, 0, false
	}
	lo, lok := rng.Lo[0].(int64)
	hi, hok := rng.Hi[0].(int64)
	if !lok || !hok || hi <= lo || hi-lo < 0 || hi-lo > math.MaxInt64/2 {
		return nil, 0, false
	}
	step = max(1, (hi-lo+int64(n)-1)/int64(n))
	for a := lo; a < hi; a += step {
		b := min(a+step, hi)
		sub := Range{Lo: []any{a}, Hi: []any{b}}
		sub.LoKey, _ = encodeKey(nil, key, sub.Lo)
		sub.HiKey, _ = encodeKey(nil, key, sub.Hi)
		subs = append(subs, sub)
	}
	return subs, step, true
}

// bucketSums is the checksum of each sub-range of rng (split by
// splitRange), in one query.
func (r *sqlReader) bucketSums(ctx context.Context, inv *Invariant, left bool, rng Range) ([]rangeSum, error) {
	out := make([]rangeSum, len(rng.Subs))
	err := r.db.inSnapshot(ctx, func(tx pgx.Tx) error {
		enc, err := r.encoding(ctx, tx, inv, left)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, r.db.d.ChecksumBuckets(r.src, enc), rng.Lo[0], rng.Hi[0], rng.Subs[0].Hi[0].(int64)-rng.Lo[0].(int64))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b int64
			var s rangeSum
			if err := rows.Scan(&b, &s.count, &s.h0, &s.h1); err != nil {
				return err
			}
			if b < 0 || b >= int64(len(out)) {
				return fmt.Errorf("checksum bucket %d of %d", b, len(out))
			}
			out[b] = s
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: checksum: %w", r.src.Name, err)
	}
	return out, nil
}

// ChecksumBuckets returns the query of the checksums of a range's
// sub-ranges of equal key width: parameters lo, hi and the width; one row
// (sub-range number, count, sums) per non-empty sub-range.
func (d sqlDialect) ChecksumBuckets(s *Source, enc rowEncoding) string {
	k := d.col(s.Key[0])
	return "SELECT (tm_n.tm_k - $1::int8) / $3::int8 AS tm_b, count(*), " + enc.sums() +
		" FROM (SELECT " + enc.norm + ", " + k + "::int8 AS tm_k FROM (" + s.SQL + ") AS " + srcAlias +
		" WHERE " + d.compare(s.Key, ">=", 1) + " AND " + d.compare(s.Key, "<", 2) + " OFFSET 0) AS tm_n GROUP BY tm_b"
}
