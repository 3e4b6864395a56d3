package reconcile

import (
	"context"
	"fmt"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Row is one row of a source: its encoded key, the key values as read, and
// every column (field) by name.
type Row struct {
	Key     Key
	KeyVals []any
	Names   []string
	Vals    []any
}

// Get returns the value of a column and whether the row has it.
func (r *Row) Get(name string) (any, bool) {
	for i, n := range r.Names {
		if n == name {
			return r.Vals[i], true
		}
	}
	return nil, false
}

// Range is a half-open key range [Lo, Hi); nil bounds are open. Lo and Hi
// hold canonical key values (int64, string, [16]byte, µs for timestamps).
type Range struct {
	Lo, Hi       []any
	LoKey, HiKey Key
	Subs         []Range // checksum sub-ranges, when checksums are used
	step         int64   // Subs are of this equal integer key width (bucketRange)
}

func (r Range) contains(k Key) bool {
	return (r.LoKey == nil || k.Compare(r.LoKey) >= 0) && (r.HiKey == nil || k.Compare(r.HiKey) < 0)
}

// stream yields rows in key order; Next returns nil at the end.
type stream interface {
	Next(ctx context.Context) (*Row, error)
	Close(ctx context.Context)
}

// reader reads one source.
type reader interface {
	// Stream reads the rows of rng (and only those) in key order, in the
	// run's snapshot.
	Stream(ctx context.Context, rng Range) (stream, error)
	// Lookup reads the current rows with key vals (no snapshot: now).
	Lookup(ctx context.Context, vals []any) ([]*Row, error)
	// Quantiles returns up to n-1 keys cutting the source into n ranges of
	// about equal row counts (at least one range per perRange rows when
	// perRange > 0), and the row count.
	Quantiles(ctx context.Context, n int, perRange int64) ([][]any, int64, error)
}

// database is one opened database holding the snapshot its sources share.
type database interface {
	Reader(s *Source) reader
	Snapshot() string // how the snapshot was taken, for the report
	Close(ctx context.Context)
}

// openDatabases opens each distinct database of rules once.
func openDatabases(ctx context.Context, rules *Rules, workers int) (map[string]database, error) {
	dbs := map[string]database{}
	for _, s := range rules.Sources {
		if _, ok := dbs[s.Database]; ok {
			continue
		}
		var db database
		var err error
		switch s.URL.Engine {
		case dburl.Mongo:
			db, err = openMongo(ctx, s.URL)
		default:
			db, err = openSQL(ctx, s.URL, workers)
		}
		if err != nil {
			closeAll(ctx, dbs)
			return nil, fmt.Errorf("source %s: %w", s.Name, dburl.RedactError(err))
		}
		dbs[s.Database] = db
	}
	return dbs, nil
}

func closeAll(ctx context.Context, dbs map[string]database) {
	for _, db := range dbs {
		db.Close(ctx)
	}
}
