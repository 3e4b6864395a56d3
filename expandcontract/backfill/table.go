package backfill

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// querier is what the introspection needs: a pool, a conn or a tx.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// table is what Run needs to know about the job's table.
type table struct {
	ident     string   // quoted schema.table
	keyCols   []string // the walk key's columns, in index order; nil = ctid
	keyTypes  []string // their format_type()s, for casting cursor text back
	touch     string   // a column that can be assigned to itself
	estimate  int64    // pg_class.reltuples (-1 when never analysed)
	relpages  int64
	blockSize int64
}

// byCtid reports whether the table has no usable key and is walked by ctid.
func (t *table) byCtid() bool { return len(t.keyCols) == 0 }

func (t *table) strategy() string {
	if t.byCtid() {
		return "ctid"
	}
	return "key"
}

// keyQuery picks the primary key, else the unique NOT NULL, non-partial,
// expression-free btree index with the fewest columns.
const keyQuery = `
SELECT array_agg(a.attname::text ORDER BY k.ord), array_agg(format_type(a.atttypid, a.atttypmod) ORDER BY k.ord)
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indisready
  AND i.indpred IS NULL AND i.indexprs IS NULL AND k.ord <= i.indnkeyatts
GROUP BY i.indexrelid, i.indisprimary
HAVING bool_and(a.attnotnull) AND bool_and(k.attnum > 0)
ORDER BY i.indisprimary DESC, count(*), i.indexrelid
LIMIT 1`

// touchQuery picks a column that may be assigned to itself: not generated,
// not GENERATED ALWAYS AS IDENTITY. Key columns come first.
const touchQuery = `
SELECT a.attname::text FROM pg_attribute a
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
  AND a.attgenerated = '' AND a.attidentity <> 'a'
ORDER BY (a.attname::text = ANY($2::text[])) DESC, a.attnum
LIMIT 1`

func loadTable(ctx context.Context, q querier, job Job) (*table, error) {
	schema := job.Schema
	if schema == "" {
		schema = "public"
	}
	t := &table{ident: pgx.Identifier{schema, job.Table}.Sanitize()}
	var oid uint32
	err := q.QueryRow(ctx, `SELECT c.oid, c.reltuples::bigint, c.relpages::bigint, current_setting('block_size')::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, schema, job.Table).
		Scan(&oid, &t.estimate, &t.relpages, &t.blockSize)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNoTable, t.ident)
	}
	if err != nil {
		return nil, fmt.Errorf("look up table %s: %w", t.ident, err)
	}
	err = q.QueryRow(ctx, keyQuery, oid).Scan(&t.keyCols, &t.keyTypes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("find a key of %s: %w", t.ident, err)
	}
	if job.Set == "" {
		err = q.QueryRow(ctx, touchQuery, oid, t.keyCols).Scan(&t.touch)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("%w: %s", ErrNoTouchColumn, t.ident)
		}
		if err != nil {
			return nil, fmt.Errorf("find a column of %s: %w", t.ident, err)
		}
	}
	return t, nil
}
