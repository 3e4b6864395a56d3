package reconcile

import (
	"context"
	"sort"

	"github.com/tidemark/tidemark/internal/dburl"
)

// statsQuantiles cuts a PostgreSQL source without reading it: when its key
// is one integer, text or uuid column of a table, the cuts come from the
// column's histogram in pg_stats (real keys ANALYZE sampled at about equal
// row-count steps) and the row count from pg_class.reltuples. Integer keys
// are cut finer by interpolating inside histogram buckets; text and uuid
// keys only get the histogram's own bounds. ok is false when the statistics
// are missing, too coarse or unreadable (the caller then samples the
// source). Statistics are not data: they are read outside the snapshot.
func (r *sqlReader) statsQuantiles(ctx context.Context, n int, perRange int64) (cuts [][]any, count int64, ok bool) {
	key := r.src.Key
	if r.db.d.engine != dburl.Postgres || len(key) != 1 || key[0].Type == KeyTimestamp {
		return nil, 0, false
	}
	rel, att, err := r.keyOrigin(ctx)
	if err != nil || rel == 0 {
		return nil, 0, false
	}
	typ := map[KeyType]string{KeyInt: "int8", KeyText: "text", KeyUUID: "uuid"}[key[0].Type]
	var reltuples float64
	var bounds []any
	err = r.db.pool.QueryRow(ctx, `SELECT c.reltuples::float8, s.histogram_bounds::text::`+typ+`[]
		FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = $2
		JOIN pg_stats s ON s.schemaname = ns.nspname AND s.tablename = c.relname AND s.attname = a.attname
		WHERE c.oid = $1 AND s.histogram_bounds IS NOT NULL AND c.reltuples > 0`, rel, att).Scan(&reltuples, &bounds)
	if err != nil || len(bounds) < 3 {
		return nil, 0, false
	}
	count = int64(reltuples)
	if perRange > 0 && count/perRange > int64(n) {
		n = int(count / perRange)
	}
	keys := make([][]any, 0, len(bounds))
	for _, b := range bounds {
		v, err := keyValue(key[0].Type, sqlValue(b, 0))
		if err != nil {
			return nil, 0, false
		}
		keys = append(keys, []any{v})
	}
	if key[0].Type == KeyInt {
		return interpolateCuts(keys, n), count, true
	}
	if n > len(keys)-1 {
		return nil, 0, false
	}
	sortCuts(key, keys) // the histogram is in the column's collation, keys in byte order
	return pickCuts(keys[1:len(keys)-1], n), count, true
}

// keyOrigin returns the table and column number the source's key column
// is read from (0 when it is computed).
func (r *sqlReader) keyOrigin(ctx context.Context) (uint32, uint16, error) {
	rows, err := r.db.pool.Query(ctx, "SELECT * FROM ("+r.src.SQL+") AS "+srcAlias+" LIMIT 0")
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for _, fd := range rows.FieldDescriptions() {
		if fd.Name == r.src.Key[0].Name {
			return fd.TableOID, fd.TableAttributeNumber, nil
		}
	}
	return 0, 0, rows.Err()
}

// interpolateCuts returns n-1 integer cuts at equal row-count steps,
// assuming keys spread evenly inside each histogram bucket.
func interpolateCuts(bounds [][]any, n int) [][]any {
	buckets := len(bounds) - 1
	var out [][]any
	var last int64
	for i := 1; i < n; i++ {
		p := float64(i) * float64(buckets) / float64(n)
		j := min(int(p), buckets-1)
		lo, hi := bounds[j][0].(int64), bounds[j+1][0].(int64)
		c := lo + int64((p-float64(j))*float64(hi-lo))
		if len(out) > 0 && c <= last {
			continue
		}
		out, last = append(out, []any{c}), c
	}
	return out
}

// pickCuts returns up to n-1 of the sorted keys at equal steps.
func pickCuts(keys [][]any, n int) [][]any {
	var out [][]any
	for i := 1; i < n; i++ {
		out = append(out, keys[i*len(keys)/n])
	}
	return out
}

func sortCuts(cols []KeyColumn, keys [][]any) {
	enc := make([]Key, len(keys))
	for i, k := range keys {
		enc[i], _ = encodeKey(nil, cols, k)
	}
	sort.Sort(byKey{keys, enc})
}

type byKey struct {
	keys [][]any
	enc  []Key
}

func (b byKey) Len() int           { return len(b.keys) }
func (b byKey) Less(i, j int) bool { return b.enc[i].Compare(b.enc[j]) < 0 }
func (b byKey) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.enc[i], b.enc[j] = b.enc[j], b.enc[i]
}
