package backfill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidemark/tidemark/internal/errkind"
)

// batch is the outcome of one committed batch.
type batch struct {
	rows int64
	last []string
	done bool
	took time.Duration
}

// batchWithRetry runs the next batch, retrying with backoff, jitter and a
// halved size when it could not get its locks within lock_timeout (or hit a
// deadlock or serialization failure).
func (r *runner) batchWithRetry(ctx context.Context) (batch, error) {
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		b, err := r.batchOnce(ctx)
		if err == nil {
			return b, nil
		}
		if ctx.Err() != nil {
			return batch{}, ctx.Err()
		}
		if !retryable(err) {
			return batch{}, err
		}
		if attempt >= r.opts.MaxRetries {
			return batch{}, errkind.Temporaryf("batch still failing after %d tries: %w", attempt, err)
		}
		r.size = max(1, r.size/2)
		wait := backoff/2 + rand.N(backoff)
		r.log.Info("backfill batch blocked, retrying", "attempt", attempt, "wait", wait, "err", err)
		if err := sleep(ctx, wait); err != nil {
			return batch{}, err
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "55P03", "40P01", "40001": // lock_not_available, deadlock, serialization
			return true
		}
	}
	return false
}

// batchOnce runs one batch and saves the cursor in the same transaction.
func (r *runner) batchOnce(ctx context.Context) (batch, error) {
	start := time.Now()
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return batch{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	lt := strconv.FormatInt(r.opts.LockTimeout.Milliseconds(), 10) + "ms"
	if _, err := tx.Exec(ctx, "SELECT set_config('lock_timeout', $1, true)", lt); err != nil {
		return batch{}, err
	}
	var b batch
	if r.t.byCtid() {
		b, err = r.blockBatch(ctx, tx)
	} else {
		b, err = r.keyBatch(ctx, tx)
	}
	if err != nil {
		return batch{}, err
	}
	if err := saveCursor(ctx, tx, r.job.ID, b.last, b.rows, b.done, r.t.byCtid()); err != nil {
		return batch{}, err
	}
	if err := tx.Commit(ctx); err != nil {
		return batch{}, err
	}
	b.took = time.Since(start)
	return b, nil
}

// keyBatch finds the upper bound of the next r.size rows after the cursor and
// updates that key range; without an upper bound it is the last batch.
func (r *runner) keyBatch(ctx context.Context, tx pgx.Tx) (batch, error) {
	last := r.cur.LastKey
	n := len(r.t.keyCols)
	upper := make([]string, n)
	dest := make([]any, n)
	for i := range upper {
		dest[i] = &upper[i]
	}
	args := []any{r.size - 1}
	bound := r.st.boundFirst
	if last != nil {
		bound = r.st.boundNext
		args = append(args, strs(last)...)
	}
	err := tx.QueryRow(ctx, bound, args...).Scan(dest...)
	final := errors.Is(err, pgx.ErrNoRows)
	var sql string
	args = strs(last)
	switch {
	case final:
		sql, upper = r.st.updFirst, last
		if last != nil {
			sql = r.st.updNext
		}
	case err != nil:
		return batch{}, fmt.Errorf("find batch bound: %w", err)
	default:
		sql = r.st.updFirstTo
		if last != nil {
			sql = r.st.updNextTo
		}
		args = append(args, strs(upper)...)
	}
	tag, err := tx.Exec(ctx, sql, args...)
	if err != nil {
		return batch{}, fmt.Errorf("update batch: %w", err)
	}
	return batch{rows: tag.RowsAffected(), last: upper, done: final}, nil
}

// blockBatch updates the rows in the next r.size blocks, skipping row
// versions written by the backfill's own earlier batches.
func (r *runner) blockBatch(ctx context.Context, tx pgx.Tx) (batch, error) {
	var from int64
	if len(r.cur.LastKey) == 1 {
		v, err := strconv.ParseInt(r.cur.LastKey[0], 10, 64)
		if err != nil {
			return batch{}, fmt.Errorf("saved block cursor %q: %w", r.cur.LastKey[0], err)
		}
		from = v
	}
	end := *r.cur.EndBlock
	to := min(from+int64(r.size), end)
	var rows int64
	if from < end {
		xids, err := r.ownXids(ctx, tx)
		if err != nil {
			return batch{}, err
		}
		tag, err := tx.Exec(ctx, r.st.updBlocks, from, to, xids)
		if err != nil {
			return batch{}, fmt.Errorf("update blocks %d-%d: %w", from, to, err)
		}
		rows = tag.RowsAffected()
	}
	return batch{rows: rows, last: []string{strconv.FormatInt(to, 10)}, done: to >= end}, nil
}

// ownXids reads the transaction ids of the job's earlier batches.
func (r *runner) ownXids(ctx context.Context, tx pgx.Tx) ([]int64, error) {
	var xids []int64
	err := tx.QueryRow(ctx, `SELECT own_xids FROM tidemark.backfill_cursors WHERE job_id = $1`, r.job.ID).Scan(&xids)
	if err != nil {
		return nil, fmt.Errorf("load own transaction ids: %w", err)
	}
	return xids, nil
}

// strs turns a key's text values into query arguments.
func strs(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}
