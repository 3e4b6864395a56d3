package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Range checksums. When both sides of a match are PostgreSQL sources, each
// side computes, inside its database, a checksum of every key range: the
// row count and two 64-bit sums of hashtextextended (seeds 0 and 1: 128
// bits) over a length-prefixed encoding of the key and the normalised
// fields. Both sides run the same PostgreSQL functions over the same
// normalised text, so equal data gives identical bytes and equal sums;
// only ranges whose checksums differ are streamed and compared in Go.
// Tolerances become buckets (floor(value / tolerance)): equal buckets are
// within tolerance; different buckets only cause the range to be streamed.

// checksummable tells whether inv's ranges can be checksummed in the databases.
func checksummable(inv *Invariant, lr, rr reader) bool {
	l, lok := lr.(*sqlReader)
	r, rok := rr.(*sqlReader)
	if inv.Kind != KindMatch || !lok || !rok || len(inv.Left.Where) > 0 || len(inv.Right.Where) > 0 {
		return false
	}
	return l.db.d.engine == dburl.Postgres && r.db.d.engine == dburl.Postgres
}

// checksumRange compares the range checksums of both sides; equal means
// the range needs no streaming.
func checksumRange(ctx context.Context, inv *Invariant, lr, rr reader, rng Range) (*rangeResult, bool, error) {
	if !checksummable(inv, lr, rr) {
		return nil, false, nil
	}
	var sums [2]rangeSum
	var errs [2]error
	var wg sync.WaitGroup
	for i, side := range []struct {
		r    *sqlReader
		cols func(*Field) string
	}{{lr.(*sqlReader), func(f *Field) string { return f.Left }}, {rr.(*sqlReader), func(f *Field) string { return f.Right }}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sums[i], errs[i] = side.r.checksum(ctx, inv, i == 0, rng)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, false, err
		}
	}
	if sums[0] != sums[1] {
		return nil, false, nil
	}
	return &rangeResult{LeftRows: sums[0].count, RightRows: sums[1].count}, true, nil
}

type rangeSum struct {
	count  int64
	h0, h1 string
}

func (r *sqlReader) checksum(ctx context.Context, inv *Invariant, left bool, rng Range) (rangeSum, error) {
	var s rangeSum
	err := r.db.inSnapshot(ctx, func(tx pgx.Tx) error {
		types, err := r.columnTypes(ctx, tx)
		if err != nil {
			return err
		}
		enc, err := rowEncoding(r.src, inv.Fields, left, types)
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

// columnTypes returns the type OID of each column of the source's SELECT.
func (r *sqlReader) columnTypes(ctx context.Context, tx pgx.Tx) (map[string]uint32, error) {
	rows, err := tx.Query(ctx, "SELECT * FROM ("+r.src.SQL+") AS "+srcAlias+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]uint32{}
	for _, fd := range rows.FieldDescriptions() {
		out[fd.Name] = fd.DataTypeOID
	}
	return out, rows.Err()
}

// Checksum returns the range checksum query over the row encoding enc.
func (d sqlDialect) Checksum(s *Source, enc string, lo, hi bool) (string, []any) {
	var where []string
	n := 1
	if lo {
		where = append(where, d.compare(s.Key, ">=", n))
		n += len(s.Key)
	}
	if hi {
		where = append(where, d.compare(s.Key, "<", n))
	}
	q := "SELECT count(*), coalesce(sum(hashtextextended(tm_e, 0)), 0)::text, coalesce(sum(hashtextextended(tm_e, 1)), 0)::text FROM (SELECT " +
		enc + " AS tm_e FROM (" + s.SQL + ") AS " + srcAlias
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + ") AS tm_c", nil
}

// rowEncoding is the SQL text expression encoding a row's key and
// normalised fields, each length-prefixed ("N" for NULL).
func rowEncoding(src *Source, fields []*Field, left bool, types map[string]uint32) (string, error) {
	d := sqlDialect{engine: dburl.Postgres}
	var parts []string
	for _, k := range src.Key {
		e := d.col(k) + "::text"
		if k.Type == KeyTimestamp {
			e = "floor(extract(epoch from " + d.col(k) + ") * 1000000)::bigint::text"
		}
		parts = append(parts, lengthPrefixed(e))
	}
	for _, f := range fields {
		col, unit := f.Right, f.RightUnit
		if left {
			col, unit = f.Left, f.LeftUnit
		}
		oid, ok := types[col]
		if !ok {
			return "", fmt.Errorf("no column %q", col)
		}
		e, err := fieldSQL(f, srcAlias+"."+pgx.Identifier{col}.Sanitize(), unit, oid)
		if err != nil {
			return "", err
		}
		parts = append(parts, lengthPrefixed(e))
	}
	return strings.Join(parts, " || "), nil
}

func lengthPrefixed(e string) string {
	return "coalesce(length(" + e + ")::text || ':' || " + e + ", 'N')"
}

// fieldSQL normalises a field in SQL exactly as normalizeValue does in Go,
// bucketed by the tolerance.
func fieldSQL(f *Field, c, unit string, oid uint32) (string, error) {
	tol := tolerance(f)
	bucket := func(n string) string {
		if tol > 0 {
			return fmt.Sprintf("floor((%s) / %d)::bigint::text", n, tol)
		}
		return "(" + n + ")::bigint::text"
	}
	switch f.Type {
	case FieldInt:
		return bucket("round((" + c + ")::numeric)"), nil
	case FieldDecimal, FieldMoney:
		if f.Type == FieldDecimal || unit == "major" {
			return bucket(fmt.Sprintf("round((%s)::numeric * 1e%d)", c, f.Scale)), nil
		}
		return bucket("round((" + c + ")::numeric)"), nil
	case FieldTimestamp:
		ts := c
		switch oid {
		case pgtype.TimestampOID:
			ts = fmt.Sprintf("(%s AT TIME ZONE %s)", c, quoteLiteral(f.TimeZone.String()))
		case pgtype.TimestamptzOID:
		default:
			return "", fmt.Errorf("timestamp field %s is not a timestamp column", f.Name)
		}
		p := f.Precision.Microseconds()
		return bucket(fmt.Sprintf("floor(floor(extract(epoch from %s) * 1000000) / %d) * %d", ts, p, p)), nil
	case FieldUUID:
		return "lower((" + c + ")::text)", nil
	case FieldBool:
		return "CASE WHEN (" + c + ")::boolean THEN '1' ELSE '0' END", nil
	}
	e := "(" + c + ")::text"
	if f.Trim {
		e = "btrim(" + e + ")"
	}
	if f.IgnoreCase {
		e = "lower(" + e + ")"
	}
	return e, nil
}
