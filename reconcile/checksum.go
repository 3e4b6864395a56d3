package reconcile

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Range checksums. When both sides of a match are PostgreSQL sources, each
// side computes, inside its database, a checksum of every key range: the
// row count and the sums of two 64-bit row hashes (seeds 0 and 1: 128
// bits). A row hash is PostgreSQL's hash_record_extended over the row of
// the key and the normalised fields (PostgreSQL 14 and later; before, a
// chain of hashint8extended and hashtextextended): every value hashed whole
// by its type's hash function (so value boundaries are unambiguous, as with
// a length prefix) and NULLs told apart. Both sides run the same functions
// over the same normalised values of the same types (integers for numbers,
// timestamps as timestamptz or µs, text otherwise), so equal data gives
// identical input bytes and equal sums; only ranges whose checksums differ
// are streamed and compared in Go. Tolerances become buckets
// (floor(value / tolerance)): equal buckets are within tolerance;
// different buckets only cause the range to be streamed.

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
		if lr.(*sqlReader).db == rr.(*sqlReader).db {
			// one database: the worker's one snapshot transaction, in turn
			sums[i], errs[i] = side.r.checksum(ctx, inv, i == 0, rng)
			continue
		}
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

// encoding returns (and caches) the row encoding of the source for inv.
func (r *sqlReader) encoding(ctx context.Context, tx pgx.Tx, inv *Invariant, left bool) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.enc[inv.Name]; ok {
		return e, nil
	}
	types, err := r.columnTypes(ctx, tx)
	if err != nil {
		return "", err
	}
	record := recordHash(tx)
	parts, err := rowParts(r.src, inv.Fields, left, types, record)
	if err != nil {
		return "", err
	}
	h0, h1 := rowHash(parts, 0), rowHash(parts, 1)
	if record {
		h0, h1 = recordRowHash(parts, 0), recordRowHash(parts, 1)
	}
	e := normalisedSelect(parts) + "\x00" + h0 + " AS tm_h0, " + h1 + " AS tm_h1"
	if r.enc == nil {
		r.enc = map[string]string{}
	}
	r.enc[inv.Name] = e
	return e, nil
}

// recordHash tells whether the server has hash_record_extended (14+).
func recordHash(tx pgx.Tx) bool {
	v := tx.Conn().PgConn().ParameterStatus("server_version")
	major, _ := strconv.Atoi(strings.SplitN(strings.SplitN(v, ".", 2)[0], " ", 2)[0])
	return major >= 14
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

// Checksum returns the range checksum query; enc is the normalised select
// list and the two row hashes, separated by a NUL byte.
func (d sqlDialect) Checksum(s *Source, enc string, lo, hi bool) (string, []any) {
	norm, hashes, _ := strings.Cut(enc, "\x00")
	var where []string
	n := 1
	if lo {
		where = append(where, d.compare(s.Key, ">=", n))
		n += len(s.Key)
	}
	if hi {
		where = append(where, d.compare(s.Key, "<", n))
	}
	q := "SELECT count(*), coalesce(sum(tm_h0), 0)::text, coalesce(sum(tm_h1), 0)::text FROM (SELECT " + hashes +
		" FROM (SELECT " + norm + " FROM (" + s.SQL + ") AS " + srcAlias
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + ") AS tm_n) AS tm_c", nil
}

// hashPart is one normalised value of a row, in SQL.
type hashPart struct {
	expr   string
	number bool // an int8 expression, else text (or native: see fieldSQL)
}

// rowParts returns the SQL expressions of a row's key and normalised fields.
// native allows values hashed by their own type (record hashing).
func rowParts(src *Source, fields []*Field, left bool, types map[string]uint32, native bool) ([]hashPart, error) {
	d := sqlDialect{engine: dburl.Postgres}
	var parts []hashPart
	for _, k := range src.Key {
		switch k.Type {
		case KeyInt:
			parts = append(parts, hashPart{d.col(k) + "::int8", true})
		case KeyTimestamp:
			parts = append(parts, hashPart{"(date_part('epoch', " + d.col(k) + ") * 1000000)::int8", true})
		default:
			parts = append(parts, hashPart{d.col(k) + "::text", false})
		}
	}
	for _, f := range fields {
		col, unit := f.Right, f.RightUnit
		if left {
			col, unit = f.Left, f.LeftUnit
		}
		oid, ok := types[col]
		if !ok {
			return nil, fmt.Errorf("no column %q", col)
		}
		e, number, err := fieldSQL(f, srcAlias+"."+pgx.Identifier{col}.Sanitize(), unit, oid, native)
		if err != nil {
			return nil, err
		}
		parts = append(parts, hashPart{e, number})
	}
	return parts, nil
}

// rowHash is the SQL int8 expression hashing the normalised values
// tm_n.tm_v1.. with seed: a chain of PostgreSQL's extended hash functions,
// each value hashed whole with the previous hash as its seed (so value
// boundaries are unambiguous, as with a length prefix), NULL told apart
// by the seed.
func rowHash(parts []hashPart, seed int) string {
	h := fmt.Sprintf("%d::int8", seed)
	for i, p := range parts {
		v := fmt.Sprintf("tm_n.tm_v%d", i+1)
		if p.number {
			h = numberPart(v, h)
		} else {
			h = textPart(v, h)
		}
	}
	return h
}

// recordRowHash is the SQL int8 expression hashing the row of normalised
// values tm_n.tm_v1.. with seed, in one call.
func recordRowHash(parts []hashPart, seed int) string {
	vals := make([]string, len(parts))
	for i := range parts {
		vals[i] = fmt.Sprintf("tm_n.tm_v%d", i+1)
	}
	return fmt.Sprintf("hash_record_extended(ROW(%s), %d)", strings.Join(vals, ", "), seed)
}

// normalisedSelect is the select list computing each part once.
func normalisedSelect(parts []hashPart) string {
	cols := make([]string, len(parts))
	for i, p := range parts {
		cols[i] = fmt.Sprintf("%s AS tm_v%d", p.expr, i+1)
	}
	return strings.Join(cols, ", ")
}

func numberPart(e, h string) string {
	return "hashint8extended(coalesce(" + e + ", 0), " + h + " # (" + e + " IS NULL)::int::int8)"
}

func textPart(e, h string) string {
	return "hashtextextended(coalesce(" + e + ", ''), " + h + " # (" + e + " IS NULL)::int::int8)"
}

// fieldSQL normalises a field in SQL as normalizeValue does in Go (number
// tells an int8 expression from a text one), bucketed by the tolerance.
// With native, a timestamp kept whole (no precision, no tolerance) stays a
// timestamptz: its hash is that of its µs, without converting it.
func fieldSQL(f *Field, c, unit string, oid uint32, native bool) (e string, number bool, err error) {
	tol := tolerance(f)
	bucket := func(n string) string {
		if tol > 0 {
			return fmt.Sprintf("floor((%s)::numeric / %d)::int8", n, tol)
		}
		return n
	}
	isInt := oid == pgtype.Int8OID || oid == pgtype.Int4OID || oid == pgtype.Int2OID
	switch f.Type {
	case FieldInt, FieldDecimal, FieldMoney:
		scale := 0
		if f.Type == FieldDecimal || f.Type == FieldMoney && unit == "major" {
			scale = f.Scale
		}
		switch {
		case isInt && scale == 0:
			return bucket(c + "::int8"), true, nil
		case isInt:
			return bucket(fmt.Sprintf("%s::int8 * %d", c, int64(math.Pow10(scale)))), true, nil
		case scale == 0:
			return bucket(c + "::numeric::int8"), true, nil
		}
		return bucket(fmt.Sprintf("(%s::numeric * 1e%d)::int8", c, scale)), true, nil
	case FieldTimestamp:
		ts := c
		switch oid {
		case pgtype.TimestampOID:
			ts = fmt.Sprintf("(%s AT TIME ZONE %s)", c, quoteLiteral(f.TimeZone.String()))
		case pgtype.TimestamptzOID:
		default:
			return "", false, fmt.Errorf("timestamp field %s is not a timestamp column", f.Name)
		}
		if native && tol == 0 && f.Precision.Microseconds() <= 1 {
			return ts, true, nil
		}
		us := "(date_part('epoch', " + ts + ") * 1000000)::int8"
		if p := f.Precision.Microseconds(); p > 1 {
			us = fmt.Sprintf("(floor((%s)::numeric / %d) * %d)::int8", us, p, p)
		}
		return bucket(us), true, nil
	case FieldUUID:
		return "lower((" + c + ")::text)", false, nil
	case FieldBool:
		return "CASE WHEN (" + c + ")::boolean THEN 1 ELSE 0 END", true, nil
	}
	e = "(" + c + ")::text"
	if f.Trim {
		e = "btrim(" + e + ")"
	}
	if f.IgnoreCase {
		e = "lower(" + e + ")"
	}
	return e, false, nil
}
