package backfill

import (
	"context"
	"time"
)

// adapt resizes the next batch so that it takes about TargetBatch: after a
// slow batch it shrinks at once in proportion, so that row locks are never
// held much longer than TargetBatch; after a fast one it grows by at most a
// factor of two. (A per-row cost model would shrink to a crawl: a tiny
// batch's time is mostly the round trip, not its rows.)
func (r *runner) adapt(b batch) {
	if b.done || b.took <= 0 || (b.rows == 0 && !r.t.byCtid()) {
		return
	}
	ratio := min(2, float64(r.opts.TargetBatch)/float64(b.took))
	r.size = r.capSize(int(float64(r.size) * ratio))
}

// capSize bounds a batch size by MaxBatch and, with MaxRate, by the rows
// MaxRate allows in one TargetBatch, so throttled batches stay small.
func (r *runner) capSize(n int) int {
	limit := float64(r.opts.MaxBatch)
	if r.opts.MaxRate > 0 {
		limit = min(limit, r.opts.MaxRate*r.opts.TargetBatch.Seconds())
	}
	if r.t.byCtid() {
		limit /= r.t.rowsPerBlock()
	}
	return max(1, min(n, int(limit)))
}

// throttle sleeps until this run's average rate is back under MaxRate.
func (r *runner) throttle(ctx context.Context) error {
	if r.opts.MaxRate <= 0 || r.res.Rows == 0 {
		return nil
	}
	due := r.start.Add(time.Duration(float64(r.res.Rows) / r.opts.MaxRate * float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		return sleep(ctx, wait)
	}
	return nil
}

// lagQuery is the worst lag of any standby, in seconds (0 without standbys).
const lagQuery = `SELECT COALESCE(EXTRACT(epoch FROM max(GREATEST(write_lag, flush_lag, replay_lag))), 0)::float8
	FROM pg_stat_replication`

// waitReplication pauses while a standby lags more than MaxReplicationLag,
// checking at most every 250ms.
func (r *runner) waitReplication(ctx context.Context) error {
	if r.opts.MaxReplicationLag <= 0 || time.Since(r.lastLag) < 250*time.Millisecond {
		return nil
	}
	paused := false
	for {
		r.lastLag = time.Now()
		var secs float64
		if err := r.conn.QueryRow(ctx, lagQuery).Scan(&secs); err != nil {
			return err
		}
		lag := time.Duration(secs * float64(time.Second))
		if lag <= r.opts.MaxReplicationLag {
			if paused {
				r.log.Info("backfill resumes: replication caught up", "lag", lag)
			}
			return nil
		}
		if !paused {
			r.log.Info("backfill paused: replication lag over the bound", "lag", lag, "max", r.opts.MaxReplicationLag)
			paused = true
		}
		if err := sleep(ctx, time.Second); err != nil {
			return err
		}
	}
}

// report calls OnProgress with the cumulative figures.
func (r *runner) report() {
	if r.opts.OnProgress == nil {
		return
	}
	p := Progress{Rows: r.cur.Rows, Total: max(r.total, r.cur.Rows), Done: r.cur.Done}
	if secs := time.Since(r.start).Seconds(); secs > 0 {
		p.RatePerSec = float64(r.res.Rows) / secs
	}
	if p.Done {
		p.Total = p.Rows
	} else if p.RatePerSec > 0 {
		p.ETA = time.Duration(float64(p.Total-p.Rows) / p.RatePerSec * float64(time.Second))
	}
	r.opts.OnProgress(p)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
