package expandcontract

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/internal/errkind"
)

// coordinator runs a phase's actions in order, skipping those already
// recorded as done, and records each one as it finishes.
type coordinator struct {
	pool  *pgxpool.Pool
	d     Dialect
	opts  Options
	v     *versionRow
	phase string
	log   *slog.Logger
}

func (c *coordinator) run(ctx context.Context, actions []Action) (ran, skipped int, err error) {
	done, err := doneActions(ctx, c.pool, c.v.ID, c.phase)
	if err != nil {
		return 0, 0, fmt.Errorf("read progress: %w", err)
	}
	for _, a := range actions {
		if done[a.ID] {
			skipped++
			continue
		}
		if err := ctx.Err(); err != nil {
			return ran, skipped, err
		}
		c.log.Info("action", "phase", c.phase, "id", a.ID)
		if err := c.runOne(ctx, a); err != nil {
			return ran, skipped, fmt.Errorf("%s %s: %w", c.phase, a.ID, err)
		}
		ran++
		crashPoint(c.phase + ":" + a.ID)
	}
	return ran, skipped, nil
}

func (c *coordinator) runOne(ctx context.Context, a Action) error {
	if handled, err := runActionHook(ctx, c.d, c.pool, a, c.opts); handled || err != nil {
		if err != nil {
			return err
		}
		_, err = c.pool.Exec(ctx, markDone, c.v.ID, c.phase, a.ID)
		return err
	}
	switch {
	case a.Backfill != nil:
		return c.backfill(ctx, a)
	case a.NoTx:
		return c.retry(ctx, func(ctx context.Context, _ time.Duration) error { return c.runNoTx(ctx, a) })
	default:
		return c.retry(ctx, func(ctx context.Context, stepAfter time.Duration) error { return c.runTx(ctx, a, stepAfter) })
	}
}

// retry runs f until it succeeds, fails with an error other than a lock
// timeout, or the DDL deadline passes; it waits with backoff and jitter.
// f gets the step-back threshold (stepback.go): it doubles with every step
// back, so that a statement that keeps meeting short waits ends up waiting
// lock_timeout like any other, and gets through.
func (c *coordinator) retry(ctx context.Context, f func(ctx context.Context, stepAfter time.Duration) error) error {
	deadline := time.Now().Add(c.opts.DDLDeadline)
	wait := 50 * time.Millisecond
	stepAfter := c.opts.StepBackAfter
	for attempt := 1; ; attempt++ {
		err := f(ctx, stepAfter)
		if err == nil || !lockRetryable(err) {
			return err
		}
		if time.Now().Add(wait).After(deadline) {
			return fmt.Errorf("%w: %w after %d attempts: %w", errkind.ErrTemporary, ErrLockTimeout, attempt, err)
		}
		var sb *steppedBack
		if errors.As(err, &sb) {
			stepAfter *= 2
			if awaitBlockers(ctx, c.pool, sb.blockers, deadline) {
				c.log.Info("stepped back from a lock wait; the transactions it waited for have ended, retrying", "attempt", attempt)
				continue
			}
		}
		c.log.Warn("lock not available, retrying", "attempt", attempt, "wait", wait, "err", err)
		sleep := wait/2 + rand.N(wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(sleep):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func lockRetryable(err error) bool {
	if errors.Is(err, errSteppedBack) { // see stepback.go
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "55P03", "40P01", "40001": // lock_not_available, deadlock, serialization
			return true
		}
	}
	return false
}

func (c *coordinator) lockTimeout() string {
	return fmt.Sprintf("%dms", c.opts.LockTimeout.Milliseconds())
}

// runTx runs the action's statements and records it in one transaction,
// watched so that a lock wait holding up other sessions steps back.
func (c *coordinator) runTx(ctx context.Context, a Action, stepAfter time.Duration) error {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	w := c.watchLocks(ctx, conn.Conn().PgConn().PID(), stepAfter)
	return w.finish(c.runTxOn(ctx, conn.Conn(), a))
}

func (c *coordinator) runTxOn(ctx context.Context, conn *pgx.Conn, a Action) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+c.lockTimeout()+"'"); err != nil {
		return err
	}
	stmts := a.SQL
	if a.Views != nil {
		if stmts, err = c.viewsSQL(ctx, tx, a.Views); err != nil {
			return err
		}
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("%w\n  in: %s", err, s)
		}
	}
	if _, err := tx.Exec(ctx, markDone, c.v.ID, c.phase, a.ID); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// runNoTx runs CONCURRENTLY statements on a pinned connection; for an
// index build it first drops an INVALID leftover, and skips a valid one.
func (c *coordinator) runNoTx(ctx context.Context, a Action) error {
	conn, err := c.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET lock_timeout = '"+c.lockTimeout()+"'"); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "RESET lock_timeout") //nolint:errcheck
	skip := false
	if a.Index != "" {
		if skip, err = c.prepareIndex(ctx, conn.Conn(), a.Index); err != nil {
			return err
		}
	}
	if !skip {
		for _, s := range a.SQL {
			if _, err := conn.Exec(ctx, s); err != nil {
				return fmt.Errorf("%w\n  in: %s", err, s)
			}
		}
	}
	crashPoint(c.phase + ":" + a.ID + "/unrecorded")
	_, err = conn.Exec(ctx, markDone, c.v.ID, c.phase, a.ID)
	return err
}

func (c *coordinator) prepareIndex(ctx context.Context, conn *pgx.Conn, name string) (skip bool, err error) {
	var valid bool
	err = conn.QueryRow(ctx, `SELECT x.indisvalid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_namespace n ON n.oid = i.relnamespace WHERE n.nspname = $1 AND i.relname = $2`, c.v.Schema, name).Scan(&valid)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	case valid:
		return true, nil
	}
	c.log.Warn("dropping an INVALID index left by an interrupted build", "index", name)
	_, err = conn.Exec(ctx, c.d.DropIndex(c.v.Schema, name))
	return false, err
}

func (c *coordinator) backfill(ctx context.Context, a Action) error {
	j := a.Backfill
	batches := 0
	opts := backfill.Options{TargetBatch: c.opts.TargetBatch, MaxRate: c.opts.MaxRate,
		MaxReplicationLag: c.opts.MaxReplicationLag, LockTimeout: c.opts.LockTimeout, Logger: c.log,
		OnProgress: func(p backfill.Progress) {
			batches++
			if c.opts.OnProgress != nil {
				c.opts.OnProgress(j.Table, p)
			}
			crashPoint(fmt.Sprintf("%s:%s#%d", c.phase, a.ID, batches))
		}}
	if _, err := backfill.Run(ctx, c.pool, backfill.Job{ID: j.ID, Schema: j.Schema, Table: j.Table, Set: j.Set, Filter: j.Filter}, opts); err != nil {
		return err
	}
	crashPoint(c.phase + ":" + a.ID + "/unrecorded")
	_, err := c.pool.Exec(ctx, markDone, c.v.ID, c.phase, a.ID)
	return err
}
