package reconcile

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// sqlStream pages through a source with keyset pagination inside one
// snapshot transaction: at most one page (Source.Batch rows) in memory.
type sqlStream struct {
	r    *sqlReader
	conn *pgxpool.Conn
	tx   pgx.Tx
	rng  Range
	page []*Row
	pos  int
	from []any // the next page starts at this key (inclusive)
	done bool
	cols *columns
	next chan pageResult // the page being read ahead, if any
}

type pageResult struct {
	rows []*Row
	err  error
}

func (r *sqlReader) Stream(ctx context.Context, rng Range) (stream, error) {
	conn, err := r.db.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	stmts := r.db.d.BeginSnapshot(r.db.snapshot)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: stmts[0]})
	if err != nil {
		conn.Release()
		return nil, fmt.Errorf("source %s: begin snapshot: %w", r.src.Name, err)
	}
	for _, q := range stmts[1:] {
		if _, err := tx.Exec(ctx, q); err != nil {
			_ = tx.Rollback(ctx)
			conn.Release()
			return nil, fmt.Errorf("source %s: join snapshot: %w", r.src.Name, err)
		}
	}
	return &sqlStream{r: r, conn: conn, tx: tx, rng: rng}, nil
}

func (s *sqlStream) Close(ctx context.Context) {
	if s.next != nil {
		<-s.next // the connection is busy until the read-ahead ends
		s.next = nil
	}
	if s.tx != nil {
		_ = s.tx.Rollback(ctx)
		s.conn.Release()
		s.tx = nil
	}
}

// Next returns the next row. While a page is consumed, the next one is
// read ahead on the stream's connection, so the database and the merge
// work at the same time.
func (s *sqlStream) Next(ctx context.Context) (*Row, error) {
	if s.pos < len(s.page) {
		s.pos++
		return s.page[s.pos-1], nil
	}
	var res pageResult
	switch {
	case s.next != nil:
		res = <-s.next
		s.next = nil
	case s.done:
		return nil, nil
	default:
		res.rows, res.err = s.fetch(ctx)
	}
	if res.err != nil {
		return nil, fmt.Errorf("source %s: %w", s.r.src.Name, res.err)
	}
	s.page, s.pos = res.rows, 0
	if !s.done {
		ch := make(chan pageResult, 1)
		s.next = ch
		go func() {
			rows, err := s.fetch(ctx)
			ch <- pageResult{rows, err}
		}()
	}
	if len(s.page) == 0 {
		return nil, nil
	}
	s.pos = 1
	return s.page[0], nil
}

// fetch reads the next page. Keys need not be unique: a page ends at the
// last complete key (the rows of its last key are read again, from that
// key, by the next page), and a page that is one key only is read again
// with a doubled limit. Memory is bounded by the batch size or the largest
// key group, whichever is larger.
func (s *sqlStream) fetch(ctx context.Context) ([]*Row, error) {
	src := s.r.src
	limit := src.Batch
	for {
		rows, err := s.query(ctx, limit)
		if err != nil {
			return nil, err
		}
		if len(rows) < limit {
			s.done = true
			return rows, nil
		}
		last := rows[len(rows)-1].Key
		cut := len(rows)
		for cut > 0 && rows[cut-1].Key.Compare(last) == 0 {
			cut--
		}
		if cut > 0 {
			s.from = canonicalKey(src.Key, rows[cut].KeyVals)
			return rows[:cut], nil
		}
		limit *= 2
	}
}

func (s *sqlStream) query(ctx context.Context, limit int) ([]*Row, error) {
	src := s.r.src
	var args []any
	from := s.from
	if from == nil {
		from = s.rng.Lo
	}
	if from != nil {
		args = append(args, keyParams(src.Key, from)...)
	}
	if s.rng.Hi != nil {
		args = append(args, keyParams(src.Key, s.rng.Hi)...)
	}
	rows, err := s.tx.Query(ctx, s.r.db.d.Page(src, from != nil, s.rng.Hi != nil, limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if s.cols == nil {
		s.cols = columnsOf(rows, src)
	}
	out := make([]*Row, 0, limit)
	for rows.Next() {
		row, err := scanRow(rows, src, s.cols)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
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
	raw, err := decodeRow(rows, c)
	if err != nil {
		return nil, err
	}
	row := &Row{Names: c.names, Vals: raw, KeyVals: make([]any, len(src.Key))}
	for i, j := range c.key {
		if j < 0 {
			return nil, fmt.Errorf("the query returns no key column %q", src.Key[i].Name)
		}
		row.KeyVals[i] = raw[j]
	}
	row.Key, err = encodeKey(nil, src.Key, row.KeyVals)
	if err != nil {
		return nil, fmt.Errorf("row %s: %w", keyString(row.KeyVals), err)
	}
	return row, nil
}

// decodeRow decodes the current row: common types directly from their wire
// bytes, anything else through pgx.
func decodeRow(rows pgx.Rows, c *columns) ([]any, error) {
	rawBytes := rows.RawValues()
	out := make([]any, len(rawBytes))
	for i, b := range rawBytes {
		v, ok := decodeBinary(c.oids[i], c.formats[i], b)
		if !ok {
			vals, err := rows.Values()
			if err != nil {
				return nil, err
			}
			for j, x := range vals {
				vals[j] = sqlValue(x, c.oids[j])
			}
			return vals, nil
		}
		out[i] = v
	}
	return out, nil
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
