package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tidemark/tidemark/internal/dburl"
)

// The row hash of the range checksums. Each side normalises the key and
// the fields in SQL into one of three kinds of value, decided by the rules
// alone so both sides agree: int8 (numbers in minor units or scaled,
// booleans, timestamps at a precision or tolerance), timestamp (a
// timestamp kept whole, as UTC wall time) and text (COLLATE "C", so equal
// hashes mean equal bytes). The normalised values are computed once per
// row (an OFFSET 0 subquery), then chained through PostgreSQL's extended
// hash functions (hashint8extended, timestamp_hash_extended,
// hashtextextended, all stable across versions and platforms: hash
// partitioning relies on it), each value hashed whole with the previous
// hash as its seed, so value boundaries are unambiguous, as with a length
// prefix. A row with a NULL takes a second chain that hashes a
// placeholder with a flipped seed, so NULL differs from every value; the
// second chain is only evaluated for rows the first one turns NULL. Two
// chains, from seeds 0 and 1, give 128 bits per row.

// rowEncoding is a source's normalised select list (tm_v1, tm_v2, ...)
// and the SQL of its two row hashes over them.
type rowEncoding struct {
	norm   string
	h0, h1 string
}

// errNoSQLHash: a field's column is not of a type whose normalisation SQL
// does exactly as Go does (a number, boolean or timestamp held as text,
// say): the invariant's ranges are streamed and compared in Go.
var errNoSQLHash = errors.New("no checksum in SQL")

// sums is the select list of the two hash sums, as text.
func (e rowEncoding) sums() string {
	return "coalesce(sum(" + e.h0 + "), 0)::text, coalesce(sum(" + e.h1 + "), 0)::text"
}

// hashKind is how a normalised value is hashed.
type hashKind int

const (
	hashInt8 hashKind = iota
	hashText
	hashTimestamp
)

// hashPart is one normalised value of a row, in SQL.
type hashPart struct {
	expr string
	kind hashKind
}

// encoding returns (and caches) the row encoding of the source for inv.
func (r *sqlReader) encoding(ctx context.Context, tx pgx.Tx, inv *Invariant, left bool) (rowEncoding, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.enc[inv.Name]; ok {
		if e.norm == "" {
			return e, errNoSQLHash
		}
		return e, nil
	}
	e, err := encodeRows(ctx, tx, r.src, inv.Fields, left)
	if err != nil && !errors.Is(err, errNoSQLHash) {
		return rowEncoding{}, err
	}
	if r.enc == nil {
		r.enc = map[string]rowEncoding{}
	}
	r.enc[inv.Name] = e // empty with errNoSQLHash
	return e, err
}

// querier runs a query (a pgx.Tx, a *pgx.Conn).
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// encodeRows returns the row encoding of src's side of fields.
func encodeRows(ctx context.Context, q querier, src *Source, fields []*Field, left bool) (rowEncoding, error) {
	types, err := columnTypes(ctx, q, src)
	if err != nil {
		return rowEncoding{}, err
	}
	parts, err := rowParts(src, fields, left, types)
	if err != nil {
		return rowEncoding{}, err
	}
	return rowEncoding{norm: normalisedSelect(parts), h0: rowHash(parts, 0), h1: rowHash(parts, 1)}, nil
}

// colType is a result column's type OID and modifier.
type colType struct {
	oid    uint32
	typmod int32
}

// columnTypes returns the type of each column of the source's SELECT.
func columnTypes(ctx context.Context, q querier, src *Source) (map[string]colType, error) {
	rows, err := q.Query(ctx, "SELECT * FROM ("+src.SQL+") AS "+srcAlias+" LIMIT 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]colType{}
	for _, fd := range rows.FieldDescriptions() {
		out[fd.Name] = colType{fd.DataTypeOID, fd.TypeModifier}
	}
	return out, rows.Err()
}

// rowParts returns the SQL expressions of a row's key and normalised fields.
func rowParts(src *Source, fields []*Field, left bool, types map[string]colType) ([]hashPart, error) {
	d := sqlDialect{engine: dburl.Postgres}
	var parts []hashPart
	for _, k := range src.Key {
		switch k.Type {
		case KeyInt:
			parts = append(parts, hashPart{d.col(k) + "::int8", hashInt8})
		case KeyTimestamp:
			parts = append(parts, hashPart{"(date_part('epoch', " + d.col(k) + ") * 1000000)::int8", hashInt8})
		default:
			parts = append(parts, hashPart{d.col(k) + `::text COLLATE "C"`, hashText})
		}
	}
	for _, f := range fields {
		col, unit := f.Right, f.RightUnit
		if left {
			col, unit = f.Left, f.LeftUnit
		}
		typ, ok := types[col]
		if !ok {
			return nil, fmt.Errorf("no column %q", col)
		}
		p, err := fieldSQL(f, srcAlias+"."+pgx.Identifier{col}.Sanitize(), unit, typ)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return parts, nil
}

// normalisedSelect is the select list computing each part once.
func normalisedSelect(parts []hashPart) string {
	cols := make([]string, len(parts))
	for i, p := range parts {
		cols[i] = fmt.Sprintf("%s AS tm_v%d", p.expr, i+1)
	}
	return strings.Join(cols, ", ")
}

// rowHash is the SQL int8 expression hashing the normalised values
// tm_n.tm_v1.. with seed: the plain chain, or for a row it turns NULL
// (a NULL value) the chain that tells NULLs apart.
func rowHash(parts []hashPart, seed int) string {
	plain, safe := fmt.Sprintf("%d::int8", seed), fmt.Sprintf("%d::int8", seed)
	for i, p := range parts {
		v := fmt.Sprintf("tm_n.tm_v%d", i+1)
		plain = p.link(v, plain)
		safe = p.link("coalesce("+v+", "+p.placeholder()+")", safe+" # ("+v+" IS NULL)::int::int8")
	}
	return "coalesce(" + plain + ", " + safe + ")"
}

// link hashes v with seed h.
func (p hashPart) link(v, h string) string {
	fn := map[hashKind]string{hashInt8: "hashint8extended", hashText: "hashtextextended", hashTimestamp: "timestamp_hash_extended"}[p.kind]
	return fn + "(" + v + ", " + h + ")"
}

// placeholder is the value hashed for NULL (with a flipped seed).
func (p hashPart) placeholder() string {
	return map[hashKind]string{hashInt8: "0::int8", hashText: "''", hashTimestamp: "'epoch'::timestamp"}[p.kind]
}

// fieldSQL normalises a field in SQL as normalizeValue does in Go,
// bucketed by the tolerance.
func fieldSQL(f *Field, c, unit string, typ colType) (hashPart, error) {
	tol := tolerance(f)
	bucket := func(n string) hashPart {
		if tol > 0 {
			n = fmt.Sprintf("floor((%s)::numeric / %d)::int8", n, tol)
		}
		return hashPart{n, hashInt8}
	}
	switch f.Type {
	case FieldInt, FieldDecimal, FieldMoney:
		scale := 0
		if f.Type == FieldDecimal || f.Type == FieldMoney && unit == "major" {
			scale = f.Scale
		}
		n, ok := numberSQL(c, typ, scale)
		if !ok {
			return hashPart{}, fmt.Errorf("field %s: %w", f.Name, errNoSQLHash)
		}
		return bucket(n), nil
	case FieldTimestamp:
		return timestampSQL(f, c, typ.oid, tol)
	case FieldUUID:
		return uuidSQL(f, c, typ)
	case FieldBool:
		if typ.oid != pgtype.BoolOID {
			return hashPart{}, fmt.Errorf("field %s: %w", f.Name, errNoSQLHash)
		}
		return hashPart{"(" + c + ")::int::int8", hashInt8}, nil
	}
	// COLLATE "C": bytes compared and hashed as they are, and lower() folds
	// ASCII only. SQL then never folds more than Go does (a Turkish
	// collation's lower('I') is 'ı', Go's is 'i'), so values equal in
	// SQL are equal in Go; ones only Go folds are streamed and compared.
	e := "(" + c + `)::text COLLATE "C"`
	if f.Trim {
		e = "btrim(" + e + ")" // spaces only: a subset of Go's TrimSpace
	}
	if f.IgnoreCase {
		e = "lower(" + e + ")"
	}
	return hashPart{e, hashText}, nil
}

// uuidSQL: a uuid column's canonical text; a text column's value in
// lower case when it is a canonical uuid, else a random text (Go reports
// what it cannot parse, so its range must be streamed).
func uuidSQL(f *Field, c string, typ colType) (hashPart, error) {
	switch typ.oid {
	case pgtype.UUIDOID:
		return hashPart{"(" + c + `)::text COLLATE "C"`, hashText}, nil
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID:
		return hashPart{fmt.Sprintf(`CASE WHEN %[1]s !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' `+
			`THEN random()::text ELSE lower(%[1]s::text COLLATE "C") END`, c), hashText}, nil
	}
	return hashPart{}, fmt.Errorf("field %s: %w", f.Name, errNoSQLHash)
}

// numberSQL is the int8 of column c in units of 10^-scale, rounded half
// away from zero as Go does; ok is false for a column that is not a
// number. A value Go cannot normalise (NaN,
// an infinity, beyond int8) hashes as a random number, so its range
// differs and is streamed, where Go reports it; a float goes through its
// shortest exact text (its ::numeric cast keeps 15 digits, coarser than
// Go).
func numberSQL(c string, typ colType, scale int) (string, bool) {
	pow := int64(math.Pow10(scale))
	lim := fmt.Sprintf("%d", int64(9e18)/pow)
	var n string
	switch typ.oid {
	case pgtype.Int8OID, pgtype.Int4OID, pgtype.Int2OID:
		if scale == 0 {
			return c + "::int8", true
		}
		n = fmt.Sprintf("%s::int8 * %d", c, pow)
	case pgtype.NumericOID:
		n = fmt.Sprintf("(%s * %d)::int8", c, pow)
		if p, s := numericPrecision(typ.typmod); p > 0 && p-s+scale <= 18 {
			// numeric(p,s) holds less than 10^(p-s), and no infinity: only NaN
			return fmt.Sprintf("CASE WHEN %s = 'NaN' THEN (random() * 9e18)::int8 ELSE %s END", c, n), true
		}
	case pgtype.Float8OID, pgtype.Float4OID:
		n = fmt.Sprintf("((%s)::text::numeric * %d)::int8", c, pow)
	default:
		return "", false
	}
	// NOT BETWEEN is NULL for NULL, which then stays NULL
	return fmt.Sprintf("CASE WHEN %s NOT BETWEEN -%s AND %s THEN (random() * 9e18)::int8 ELSE %s END", c, lim, lim, n), true
}

// numericPrecision is the precision and scale of a numeric type modifier
// (0, 0 when unconstrained).
func numericPrecision(typmod int32) (p, s int) {
	if typmod < 4 {
		return 0, 0
	}
	m := typmod - 4
	return int(m>>16) & 0xffff, int(m) & 0xffff
}

// timestampSQL: a timestamp kept whole (no precision, no tolerance) is
// hashed as its UTC wall time; else as its µs since the epoch, truncated
// to the precision and bucketed by the tolerance.
func timestampSQL(f *Field, c string, oid uint32, tol int64) (hashPart, error) {
	ts := c
	switch oid {
	case pgtype.TimestampOID:
		ts = fmt.Sprintf("(%s AT TIME ZONE %s)", c, quoteLiteral(f.TimeZone.String()))
	case pgtype.TimestamptzOID:
	default:
		return hashPart{}, fmt.Errorf("field %s: %w", f.Name, errNoSQLHash)
	}
	if tol == 0 && f.Precision.Microseconds() <= 1 {
		return hashPart{"(" + ts + " AT TIME ZONE 'UTC')", hashTimestamp}, nil
	}
	us := "(date_part('epoch', " + ts + ") * 1000000)::int8"
	if p := f.Precision.Microseconds(); p > 1 {
		us = fmt.Sprintf("(floor((%s)::numeric / %d) * %d)::int8", us, p, p)
	}
	if tol > 0 {
		us = fmt.Sprintf("floor((%s)::numeric / %d)::int8", us, tol)
	}
	return hashPart{us, hashInt8}, nil
}
