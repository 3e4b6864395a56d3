package expandcontract

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

// actionRunner is an optional Dialect capability: the coordinator lets it
// run the actions it handles itself, then records them as done.
type actionRunner interface {
	runAction(ctx context.Context, pool *pgxpool.Pool, a Action, opts Options) (handled bool, err error)
}

var _ actionRunner = Cockroach{}

// runAction runs, on CockroachDB, the backfills (batches under crdb's
// retry loop), the job waits (with progress in the log) and the dual-write
// verifications; every other action runs as on PostgreSQL.
func (d Cockroach) runAction(ctx context.Context, pool *pgxpool.Pool, a Action, opts Options) (bool, error) {
	switch {
	case a.Backfill != nil:
		return true, d.runBackfillAction(ctx, pool, a, opts)
	case strings.HasSuffix(a.ID, "/wait-jobs") && len(a.SQL) == 1:
		filter, ok := waitJobsQuery(a.SQL[0])
		if !ok {
			return false, nil
		}
		return true, d.WaitJobs(ctx, pool, filter, time.Second, func(jobs []JobProgress) {
			for _, j := range jobs {
				opts.Logger.Info("schema change", "action", a.ID, "job", j.ID, "status", j.Status, "fraction_completed", j.Fraction)
			}
		})
	case isSwapAction(a):
		return true, d.runSwap(ctx, pool, a)
	case strings.HasPrefix(a.ID, "verify/"):
		return true, runVerifyCounts(ctx, pool, a)
	}
	return false, nil
}

func (d Cockroach) runBackfillAction(ctx context.Context, pool *pgxpool.Pool, a Action, opts Options) error {
	j := *a.Backfill
	_, err := d.RunBackfill(ctx, pool, j, CockroachBackfillOptions{TargetBatch: opts.TargetBatch, Logger: opts.Logger,
		OnProgress: func(p CockroachBackfillProgress) {
			opts.Logger.Info("backfill", "table", j.Table, "rows", p.Rows, "batches", p.Batches, "retries", p.Retries)
			if opts.OnProgress != nil {
				opts.OnProgress(j.Table, backfill.Progress{Rows: p.Rows, Done: p.Done})
			}
		}})
	return err
}

// runVerifyCounts runs a verify action's counting statements; any
// mismatch fails contract (exit 4) before it drops anything.
func runVerifyCounts(ctx context.Context, pool *pgxpool.Pool, a Action) error {
	r := &VerifyReport{}
	for _, s := range a.SQL {
		var n int64
		if err := pool.QueryRow(ctx, s).Scan(&n); err != nil {
			return fmt.Errorf("%s: %w", a.ID, err)
		}
		r.Checks++
		r.Mismatches += n
	}
	if r.Mismatches > 0 {
		return &VerifyError{Report: r}
	}
	return nil
}

// runActionHook is the coordinator's entry to an actionRunner dialect.
func runActionHook(ctx context.Context, d Dialect, pool *pgxpool.Pool, a Action, opts Options) (bool, error) {
	if r, ok := d.(actionRunner); ok {
		return r.runAction(ctx, pool, a, opts)
	}
	return false, nil
}
