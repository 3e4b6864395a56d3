package backfill

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/state"
)

// runner holds one Run's state. It uses one pinned connection, so the
// batch statements are prepared once.
type runner struct {
	conn    *pgxpool.Conn
	job     Job
	opts    Options
	t       *table
	st      stmts
	cur     *Cursor
	log     *slog.Logger
	size    int // next batch size: rows (key) or blocks (ctid)
	total   int64
	start   time.Time
	res     Result
	lastLag time.Time
}

// Run backfills job's table from its saved cursor (or the start) to the end,
// one short transaction per batch, and marks the job done. Running a done job
// again does nothing. Cancelling ctx stops it between batches (or aborts the
// current batch, which is then repeated by the next Run): the result counts
// the rows done so far, and the error wraps ctx.Err().
func Run(ctx context.Context, pool *pgxpool.Pool, job Job, opts Options) (Result, error) {
	start := time.Now()
	if err := job.validate(); err != nil {
		return Result{}, err
	}
	opts = opts.withDefaults()
	if err := state.Ensure(ctx, pool, Component); err != nil {
		return Result{}, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("backfill %s: %w", job.ID, err)
	}
	defer conn.Release()
	if err := claim(ctx, conn, job.ID, opts.LockTimeout); err != nil {
		return Result{}, fmt.Errorf("backfill %s: %w", job.ID, err)
	}
	defer release(ctx, conn, job.ID)
	r := &runner{conn: conn, job: job, opts: opts, start: start,
		log: opts.Logger.With("job", job.ID)}
	if err := r.prepare(ctx); err != nil {
		return Result{}, fmt.Errorf("backfill %s: %w", job.ID, err)
	}
	err = r.loop(ctx)
	r.res.Duration = time.Since(start)
	r.log.Info("backfill stopped", "rows", r.res.Rows, "batches", r.res.Batches,
		"duration", r.res.Duration.Round(time.Millisecond), "done", r.cur.Done, "err", err)
	if err != nil {
		return r.res, fmt.Errorf("backfill %s: %w", job.ID, err)
	}
	return r.res, nil
}

func (r *runner) prepare(ctx context.Context) error {
	t, err := loadTable(ctx, r.conn, r.job)
	if err != nil {
		return err
	}
	r.t, r.st = t, buildStmts(t, r.job)
	var endBlock int64
	if t.byCtid() {
		err = r.conn.QueryRow(ctx, `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint`, t.ident).Scan(&endBlock)
		if err != nil {
			return fmt.Errorf("size of %s: %w", t.ident, err)
		}
	}
	if r.cur, err = openCursor(ctx, r.conn, r.job, t, endBlock); err != nil {
		return err
	}
	if r.total, err = r.estimate(ctx); err != nil {
		return err
	}
	r.size = r.opts.InitialBatch
	if t.byCtid() {
		r.size = max(1, int(float64(r.opts.InitialBatch)/t.rowsPerBlock()))
	}
	r.size = r.capSize(r.size)
	r.log.Info("backfill start", "table", t.ident, "strategy", t.strategy(), "key", t.keyCols,
		"resume_after", r.cur.LastKey, "rows_done", r.cur.Rows, "estimate", r.total, "done", r.cur.Done)
	return nil
}

// estimate is the table's row count from pg_class, counted when the table
// was never analysed.
func (r *runner) estimate(ctx context.Context) (int64, error) {
	if r.t.estimate >= 0 {
		return r.t.estimate, nil
	}
	var n int64
	if err := r.conn.QueryRow(ctx, "SELECT count(*) FROM "+r.t.ident).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", r.t.ident, err)
	}
	return n, nil
}

func (t *table) rowsPerBlock() float64 {
	if t.relpages > 0 && t.estimate > 0 {
		return max(1, float64(t.estimate)/float64(t.relpages))
	}
	return 50
}

func (r *runner) loop(ctx context.Context) error {
	for !r.cur.Done {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.waitReplication(ctx); err != nil {
			return err
		}
		b, err := r.batchWithRetry(ctx)
		if err != nil {
			return err
		}
		r.res.Rows += b.rows
		r.res.Batches++
		r.cur.Rows += b.rows
		r.cur.Batches++
		r.cur.LastKey, r.cur.Done = b.last, b.done
		r.log.Debug("backfill batch", "rows", b.rows, "size", r.size, "took", b.took, "last", b.last)
		r.adapt(b)
		if !r.cur.Done {
			r.report()
		}
		if err := r.throttle(ctx); err != nil {
			return err
		}
	}
	r.report()
	return nil
}
