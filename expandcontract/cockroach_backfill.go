package expandcontract

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cockroachdb/cockroach-go/v2/crdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/state"
)

// CockroachBackfillOptions tune [Cockroach.RunBackfill].
type CockroachBackfillOptions struct {
	// BatchRows is the first batch's size (default 500); then the size
	// adapts so that a batch takes about TargetBatch (default 100ms).
	BatchRows   int
	TargetBatch time.Duration
	// MaxRetries bounds the retries of one batch on 40001 (default 50).
	MaxRetries int
	Logger     *slog.Logger
	OnProgress func(CockroachBackfillProgress)
}

// CockroachBackfillProgress is reported after every batch.
type CockroachBackfillProgress struct {
	Rows    int64 `json:"rows"`
	Batches int64 `json:"batches"`
	Retries int64 `json:"retries"` // batch transactions retried on 40001
	Done    bool  `json:"done"`
}

func (o CockroachBackfillOptions) withDefaults() CockroachBackfillOptions {
	if o.BatchRows <= 0 {
		o.BatchRows = 500
	}
	if o.TargetBatch <= 0 {
		o.TargetBatch = 100 * time.Millisecond
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 50
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

type crdbRun struct {
	pool  *pgxpool.Pool
	job   BackfillJob
	st    crdbBackfillSQL
	opts  CockroachBackfillOptions
	last  []string
	size  int
	progr CockroachBackfillProgress
}

// RunBackfill fills every existing row of job's table (that job.Filter
// selects, when set) with job.Set, in
// batches walked along the primary key. Each batch is one transaction,
// retried as a whole on 40001 by cockroach-go's crdb.ExecuteCtx, that
// updates the rows and saves the cursor (tidemark.ec_crdb_cursors): a run
// killed at any moment continues after the last saved batch. Batch bounds
// are read AS OF SYSTEM TIME (see [Cockroach.AsOf]; "-" on PostgreSQL).
func (d Cockroach) RunBackfill(ctx context.Context, pool *pgxpool.Pool, job BackfillJob, opts CockroachBackfillOptions) (CockroachBackfillProgress, error) {
	opts = opts.withDefaults()
	if err := state.Ensure(ctx, pool, crdbCursors); err != nil {
		return CockroachBackfillProgress{}, fmt.Errorf("backfill state: %w", err)
	}
	key, err := primaryKey(ctx, pool, job.Schema, job.Table)
	if err != nil {
		return CockroachBackfillProgress{}, err
	}
	r := &crdbRun{pool: pool, job: job, st: d.backfillSQL(job, key), opts: opts, size: opts.BatchRows}
	var done bool
	err = pool.QueryRow(ctx, r.st.LoadCursor, job.ID).Scan(&r.last, &r.progr.Rows, &done)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return r.progr, fmt.Errorf("load cursor: %w", err)
	}
	if done {
		r.progr.Done = true
		return r.progr, nil
	}
	for !r.progr.Done {
		if err := r.batch(ctx); err != nil {
			return r.progr, fmt.Errorf("backfill %s: %w", job.Table, err)
		}
	}
	return r.progr, nil
}

func primaryKey(ctx context.Context, q querier, schema, table string) ([]KeyColumn, error) {
	rows, err := q.Query(ctx, primaryKeySQL, schema, table)
	if err != nil {
		return nil, fmt.Errorf("read primary key: %w", err)
	}
	key, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (KeyColumn, error) {
		var k KeyColumn
		return k, r.Scan(&k.Name, &k.Type)
	})
	if err == nil && len(key) == 0 {
		err = fmt.Errorf("table %s.%s has no primary key", schema, table)
	}
	return key, err
}

// batch finds the next bound, then updates and saves the cursor in one
// transaction under crdb.ExecuteCtx.
func (r *crdbRun) batch(ctx context.Context) error {
	start := time.Now()
	upper, err := r.bound(ctx)
	if err != nil {
		return fmt.Errorf("batch bound: %w", err)
	}
	sql, args := r.update(upper)
	attempt := 0
	var rows int64
	err = crdb.ExecuteCtx(crdb.WithMaxRetries(ctx, r.opts.MaxRetries), func(ctx context.Context, _ ...any) error {
		if attempt++; attempt > 1 {
			r.progr.Retries++
			r.opts.Logger.Warn("batch retried (40001)", "table", r.job.Table, "attempt", attempt)
			time.Sleep(time.Duration(rand.N(10*attempt)+1) * time.Millisecond)
		}
		var err error
		rows, err = r.tx(ctx, sql, args, upper)
		return err
	})
	if err != nil {
		return err
	}
	r.last = upper
	r.progr.Rows += rows
	r.progr.Batches++
	r.progr.Done = upper == nil
	r.resize(time.Since(start))
	if r.opts.OnProgress != nil {
		r.opts.OnProgress(r.progr)
	}
	return nil
}

func (r *crdbRun) tx(ctx context.Context, sql string, args []any, upper []string) (int64, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, err
	}
	cursor := upper
	if cursor == nil {
		cursor = r.last
	}
	if _, err := tx.Exec(ctx, r.st.SaveCursor, r.job.ID, cursor, tag.RowsAffected(), upper == nil); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), tx.Commit(ctx)
}

// bound returns the key of the batch's last row, nil when the rest of the
// table fits in one batch.
func (r *crdbRun) bound(ctx context.Context) ([]string, error) {
	sql, args := r.st.BoundFirst, []any{r.size - 1}
	if r.last != nil {
		sql = r.st.BoundNext
		args = append(args, strAny(r.last)...)
	}
	rows, err := r.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([]string, error) {
		vals := make([]string, len(row.FieldDescriptions()))
		dest := make([]any, len(vals))
		for i := range vals {
			dest[i] = &vals[i]
		}
		return vals, row.Scan(dest...)
	})
	if err != nil || len(out) == 0 {
		return nil, err
	}
	return out[0], nil
}

func (r *crdbRun) update(upper []string) (string, []any) {
	switch {
	case r.last == nil && upper == nil:
		return r.st.UpdFirst, nil
	case r.last == nil:
		return r.st.UpdFirstTo, strAny(upper)
	case upper == nil:
		return r.st.UpdNext, strAny(r.last)
	}
	return r.st.UpdNextTo, append(strAny(r.last), strAny(upper)...)
}

// resize aims the next batch at the target duration (within 2x steps).
func (r *crdbRun) resize(took time.Duration) {
	switch {
	case took < r.opts.TargetBatch/2:
		r.size = min(r.size*2, 100_000)
	case took > r.opts.TargetBatch*2:
		r.size = max(r.size/2, 10)
	}
}

func strAny(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}
