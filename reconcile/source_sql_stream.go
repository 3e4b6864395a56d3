package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sqlStream reads one key range with ONE ordered query inside a snapshot
// transaction, streamed row by row as the server sends it (no pages, no
// re-planning per page). Rows are carved out of chunks (rowArena), so
// memory is bounded by the chunk size and the rows the merge still holds,
// not by the range size.
type sqlStream struct {
	r     *sqlReader
	conn  *pgxpool.Conn
	tx    pgx.Tx
	rows  pgx.Rows
	cols  *columns
	arena rowArena
}

func (r *sqlReader) Stream(ctx context.Context, rng Range) (stream, error) {
	conn, err := r.db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	s := &sqlStream{r: r, conn: conn}
	stmts := r.db.d.BeginSnapshot(r.db.snapshot)
	if s.tx, err = conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: stmts[0]}); err != nil {
		conn.Release()
		return nil, fmt.Errorf("source %s: begin snapshot: %w", r.src.Name, err)
	}
	for _, q := range stmts[1:] {
		if _, err := s.tx.Exec(ctx, q); err != nil {
			s.Close(ctx)
			return nil, fmt.Errorf("source %s: join snapshot: %w", r.src.Name, err)
		}
	}
	var args []any
	if rng.Lo != nil {
		args = append(args, keyParams(r.src.Key, rng.Lo)...)
	}
	if rng.Hi != nil {
		args = append(args, keyParams(r.src.Key, rng.Hi)...)
	}
	if s.rows, err = s.tx.Query(ctx, r.db.d.Page(r.src, rng.Lo != nil, rng.Hi != nil, 0), args...); err != nil {
		s.Close(ctx)
		return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
	}
	s.cols = columnsOf(s.rows, r.src)
	s.arena.strs = make([]internTable, len(s.cols.oids))
	return s, nil
}

// Close ends the stream; a range not read to its end is cancelled on the
// server rather than drained.
func (s *sqlStream) Close(ctx context.Context) {
	if s.rows != nil {
		_ = s.conn.Conn().PgConn().CancelRequest(ctx)
		s.rows.Close()
		s.rows = nil
	}
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.conn.Release()
		s.tx = nil
	}
}

// recycle takes back rows the merge is done with.
func (s *sqlStream) recycle(rows []*Row) { s.arena.recycle(rows) }

// Next returns the next row, or nil at the end of the range.
func (s *sqlStream) Next(ctx context.Context) (*Row, error) {
	if s.rows == nil {
		return nil, nil
	}
	if !s.rows.Next() {
		err := s.rows.Err()
		s.rows = nil
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.r.src.Name, err)
		}
		return nil, nil
	}
	row, err := scanRowInto(&s.arena, s.rows, s.r.src, s.cols)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", s.r.src.Name, err)
	}
	return row, nil
}

// canonicalKey converts key values as read to canonical key values.
func canonicalKey(key []KeyColumn, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i], _ = keyValue(key[i].Type, v)
	}
	return out
}

// columns maps a result's columns: names, OIDs and key positions.
type columns struct {
	names   []string
	oids    []uint32
	formats []int16
	key     []int
}

func columnsOf(rows pgx.Rows, src *Source) *columns {
	fds := rows.FieldDescriptions()
	c := &columns{names: make([]string, len(fds)), oids: make([]uint32, len(fds)), formats: make([]int16, len(fds)), key: make([]int, len(src.Key))}
	for i, fd := range fds {
		c.names[i], c.oids[i], c.formats[i] = fd.Name, fd.DataTypeOID, fd.Format
	}
	for i, k := range src.Key {
		c.key[i] = -1
		for j, n := range c.names {
			if n == k.Name {
				c.key[i] = j
			}
		}
	}
	return c
}

func scanRow(rows pgx.Rows, src *Source, c *columns) (*Row, error) {
	return scanRowInto(&rowArena{strs: make([]internTable, len(c.oids))}, rows, src, c)
}

// scanRowInto decodes the current row into memory taken from a.
func scanRowInto(a *rowArena, rows pgx.Rows, src *Source, c *columns) (*Row, error) {
	row := a.row(len(c.names), len(src.Key))
	row.Names = c.names
	if err := decodeRow(a, rows, c, row.Vals); err != nil {
		return nil, err
	}
	for i, j := range c.key {
		if j < 0 {
			return nil, fmt.Errorf("the query returns no key column %q", src.Key[i].Name)
		}
		row.KeyVals[i] = row.Vals[j]
	}
	var err error
	if row.Key, err = a.key(row.Key, src.Key, row.KeyVals); err != nil {
		return nil, fmt.Errorf("row %s: %w", keyString(row.KeyVals), err)
	}
	return row, nil
}

// decodeRow decodes the current row into out: common types directly from
// their wire bytes (text through a's intern tables), anything else
// through pgx.
func decodeRow(a *rowArena, rows pgx.Rows, c *columns, out []any) error {
	for i, b := range rows.RawValues() {
		if v, ok := a.strs[i].lookup(c.oids[i], b); ok {
			out[i] = v
			continue
		}
		v, ok := decodeBinary(c.oids[i], c.formats[i], b)
		if !ok {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			for j, x := range vals {
				out[j] = sqlValue(x, c.oids[j])
			}
			return nil
		}
		a.strs[i].add(c.oids[i], b, v)
		out[i] = v
	}
	return nil
}

// sqlValue converts a pgx value to a source value (int64, float64, Decimal,
// string, UUID, time.Time, NaiveTime, bool, nil, or as is).
func sqlValue(v any, oid uint32) any {
	switch x := v.(type) {
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case float32:
		return float64(x)
	case [16]byte:
		return UUID(x)
	case pgtype.Numeric:
		if !x.Valid {
			return nil
		}
		dv, err := x.Value()
		if err != nil {
			return nil
		}
		return Decimal(fmt.Sprint(dv))
	case time.Time:
		if oid == pgtype.TimestampOID {
			return NaiveTime(x)
		}
		return x.UTC()
	}
	return v
}

func unixMicro(us int64) time.Time { return time.UnixMicro(us).UTC() }
