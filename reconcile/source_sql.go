package reconcile

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/dburl"
)

// sqlDB is a PostgreSQL or CockroachDB database read in one snapshot: a
// coordinator transaction exports it (PostgreSQL) or names a timestamp
// (CockroachDB), and every stream's transaction imports it.
type sqlDB struct {
	d        sqlDialect
	pool     *pgxpool.Pool
	coord    pgx.Tx
	conn     *pgxpool.Conn
	snapshot string
}

func openSQL(ctx context.Context, u *dburl.URL, workers int) (*sqlDB, error) {
	cfg, err := pgxpool.ParseConfig(u.PGX())
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(workers + 2)
	if u.Engine == dburl.Postgres {
		// floats as text exactly (shortest round trip from PostgreSQL 12;
		// 17 digits before), whatever the database's default: the range
		// checksums read them so
		cfg.ConnConfig.RuntimeParams["extra_float_digits"] = "3"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	db := &sqlDB{d: sqlDialect{engine: u.Engine}, pool: pool}
	begin, take := db.d.TakeSnapshot()
	if begin != "" {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			pool.Close()
			return nil, err
		}
		tx, err := conn.Begin(ctx)
		if err == nil {
			_, err = tx.Exec(ctx, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
		}
		if err != nil {
			conn.Release()
			pool.Close()
			return nil, err
		}
		db.coord, db.conn = tx, conn
		err = tx.QueryRow(ctx, take).Scan(&db.snapshot)
		if err != nil {
			db.Close(ctx)
			return nil, fmt.Errorf("take snapshot: %w", err)
		}
		return db, nil
	}
	if err := pool.QueryRow(ctx, take).Scan(&db.snapshot); err != nil {
		pool.Close()
		return nil, fmt.Errorf("take snapshot: %w", err)
	}
	return db, nil
}

func (db *sqlDB) Snapshot() string {
	if db.d.engine == dburl.Cockroach {
		return "AS OF SYSTEM TIME " + db.snapshot
	}
	return "REPEATABLE READ snapshot " + db.snapshot
}

func (db *sqlDB) Close(ctx context.Context) {
	if db.coord != nil {
		_ = db.coord.Rollback(ctx)
		db.conn.Release()
		db.coord = nil
	}
	db.pool.Close()
}

func (db *sqlDB) Reader(s *Source) reader { return &sqlReader{db: db, src: s} }

// inSnapshot runs f in a read transaction in the run's snapshot: the
// worker's session transaction when ctx has a session, else a new one.
func (db *sqlDB) inSnapshot(ctx context.Context, f func(tx pgx.Tx) error) error {
	if s, ok := ctx.Value(sessionKey{}).(*session); ok {
		return s.run(ctx, db, f)
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	stmts := db.d.BeginSnapshot(db.snapshot)
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: stmts[0]})
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	for _, q := range stmts[1:] {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("join snapshot: %w", err)
		}
	}
	return f(tx)
}

type sessionKey struct{}

// session keeps one snapshot transaction per database for one worker, so
// the many small range-checksum queries do not each begin a transaction.
type session struct {
	mu  sync.Mutex // the two sides of a checksum use the map at once
	txs map[*sqlDB]*sessionTx
}

type sessionTx struct {
	conn *pgxpool.Conn
	tx   pgx.Tx
}

// withSession returns a context carrying a new session and its closer.
func withSession(ctx context.Context) (context.Context, func()) {
	s := &session{txs: map[*sqlDB]*sessionTx{}}
	return context.WithValue(ctx, sessionKey{}, s), func() {
		s.mu.Lock()
		dbs := make([]*sqlDB, 0, len(s.txs))
		for db := range s.txs {
			dbs = append(dbs, db)
		}
		s.mu.Unlock()
		for _, db := range dbs {
			s.drop(context.WithoutCancel(ctx), db)
		}
	}
}

func (s *session) drop(ctx context.Context, db *sqlDB) {
	s.mu.Lock()
	t := s.txs[db]
	delete(s.txs, db)
	s.mu.Unlock()
	if t != nil {
		_ = t.tx.Rollback(ctx)
		t.conn.Release()
	}
}

func (s *session) get(db *sqlDB) *sessionTx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txs[db]
}

func (s *session) run(ctx context.Context, db *sqlDB, f func(tx pgx.Tx) error) error {
	t := s.get(db)
	if t == nil {
		conn, err := db.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		stmts := db.d.BeginSnapshot(db.snapshot)
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{BeginQuery: stmts[0]})
		if err != nil {
			conn.Release()
			return fmt.Errorf("begin snapshot: %w", err)
		}
		t = &sessionTx{conn: conn, tx: tx}
		s.mu.Lock()
		s.txs[db] = t
		s.mu.Unlock()
		for _, q := range stmts[1:] {
			if _, err := tx.Exec(ctx, q); err != nil {
				s.drop(ctx, db)
				return fmt.Errorf("join snapshot: %w", err)
			}
		}
	}
	if err := f(t.tx); err != nil {
		s.drop(ctx, db) // the transaction may be aborted
		return err
	}
	return nil
}

type sqlReader struct {
	db  *sqlDB
	src *Source
	mu  sync.Mutex
	enc map[string]rowEncoding // checksum row encoding per invariant
}

func (r *sqlReader) Lookup(ctx context.Context, vals []any) ([]*Row, error) {
	rows, err := r.db.pool.Query(ctx, r.db.d.Lookup(r.src), keyParams(r.src.Key, vals)...)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
	}
	return collectRows(rows, r.src)
}

// samplesPerRange is how many sampled keys stand for one range.
const samplesPerRange = 20

// Quantiles cuts from the table's statistics when it can (statsQuantiles),
// else at keys of a random sample (about samplesPerRange keys per range),
// so the cuts are real keys near the true quantiles.
func (r *sqlReader) Quantiles(ctx context.Context, n int, perRange int64) ([][]any, int64, error) {
	if cuts, count, ok := r.statsQuantiles(ctx, n, perRange); ok {
		return cuts, count, nil
	}
	var out [][]any
	var count int64
	err := r.db.inSnapshot(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, r.db.d.Count(r.src)).Scan(&count); err != nil {
			return err
		}
		if perRange > 0 && count/perRange > int64(n) {
			n = int(count / perRange)
		}
		if n <= 1 || count < 2 {
			return nil
		}
		frac := min(1, float64(n*samplesPerRange)/float64(count))
		rows, err := tx.Query(ctx, r.db.d.Sample(r.src), frac)
		if err != nil {
			return err
		}
		sample, err := collectKeys(rows, r.src)
		if err != nil {
			return err
		}
		step := max(1, len(sample)/n)
		for i := step; i < len(sample) && len(out) < n-1; i += step {
			out = append(out, sample[i])
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("source %s: quantiles: %w", r.src.Name, err)
	}
	return out, count, nil
}

func collectKeys(rows pgx.Rows, src *Source) ([][]any, error) {
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		v, err := rows.Values()
		if err != nil {
			return nil, err
		}
		key := make([]any, len(v))
		for i, x := range v {
			if key[i], err = keyValue(src.Key[i].Type, sqlValue(x, 0)); err != nil {
				return nil, err
			}
		}
		out = append(out, key)
	}
	return out, rows.Err()
}

// keyParams converts canonical key values to query parameters.
func keyParams(key []KeyColumn, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case [16]byte:
			out[i] = UUID(x).String()
		case UUID:
			out[i] = x.String()
		default:
			if key[i].Type == KeyTimestamp {
				if us, err := toInt64(v); err == nil { // µs (json.Number from a checkpoint)
					out[i] = pgtype.Timestamptz{Time: unixMicro(us), Valid: true}
					continue
				}
			}
			out[i] = v
		}
	}
	return out
}

// collectRows reads all rows of a (small) lookup result.
func collectRows(rows pgx.Rows, src *Source) ([]*Row, error) {
	defer rows.Close()
	cols := columnsOf(rows, src)
	var out []*Row
	for rows.Next() {
		row, err := scanRow(rows, src, cols)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
