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

// batchOnce runs one batch and saves the cursor atomically with it: a
// keyset batch is one statement; a ctid batch is a short transaction.
func (r *runner) batchOnce(ctx context.Context) (batch, error) {
	start := time.Now()
	var b batch
	var err error
	if r.t.byCtid() {
		b, err = r.blockBatchTx(ctx)
	} else {
		b, err = r.keyBatch(ctx)
	}
	b.took = time.Since(start)
	return b, err
}

// keyBatch updates the next r.size rows after the cursor; when fewer are
// left, the final statement updates the rest and marks the job done.
func (r *runner) keyBatch(ctx context.Context) (batch, error) {
	last := r.cur.LastKey
	args := append([]any{r.job.ID, r.size - 1}, strs(last)...)
	sql := r.st.batchNext
	if last == nil {
		sql = r.st.batchFirst
	}
	var b batch
	if err := r.conn.QueryRow(ctx, sql, args...).Scan(&b.rows, &b.last); err != nil {
		return batch{}, fmt.Errorf("update batch: %w", err)
	}
	if b.last != nil {
		return b, nil
	}
	args = append([]any{r.job.ID}, strs(last)...)
	sql = r.st.finalNext
	if last == nil {
		sql = r.st.finalFirst
	}
	if err := r.conn.QueryRow(ctx, sql, args...).Scan(&b.rows); err != nil {
		return batch{}, fmt.Errorf("update last batch: %w", err)
	}
	b.last, b.done = last, true
	return b, nil
}

// blockBatchTx runs a ctid batch and saves the cursor in one transaction.
func (r *runner) blockBatchTx(ctx context.Context) (batch, error) {
	tx, err := r.conn.Begin(ctx)
	if err != nil {
		return batch{}, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	b, err := r.blockBatch(ctx, tx)
	if err != nil {
		return batch{}, err
	}
	if err := saveCursor(ctx, tx, r.job.ID, b.last, b.rows, b.done); err != nil {
		return batch{}, err
	}
	return b, tx.Commit(ctx)
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
