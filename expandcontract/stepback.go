package expandcontract

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// errSteppedBack marks a DDL statement the watcher cancelled because other
// sessions queued behind its lock wait; the coordinator retries it once the
// transactions it waited for have ended.
var errSteppedBack = errors.New("stepped back from a lock wait that held up other sessions")

// steppedBack carries the transactions that blocked the cancelled statement.
type steppedBack struct {
	err      error
	blockers blockers
}

func (e *steppedBack) Error() string { return errSteppedBack.Error() + ": " + e.err.Error() }
func (e *steppedBack) Unwrap() []error {
	return []error{errSteppedBack, e.err}
}

// blockers are transactions, each a backend pid and its xact_start.
type blockers struct {
	PIDs   []int32
	Starts []time.Time
}

// stepBackPoll is how often the watcher looks at a running DDL transaction.
const stepBackPoll = 10 * time.Millisecond

// stepBackQuery tells how long the backend has waited for a lock (0 when it
// is not waiting) and whether another session waits behind it.
const stepBackQuery = `SELECT coalesce(extract(epoch FROM clock_timestamp() - min(l.waitstart)), 0)::float8,
	EXISTS (SELECT 1 FROM pg_locks w WHERE NOT w.granted AND w.pid <> $1 AND $1 = ANY (pg_blocking_pids(w.pid)))
FROM pg_locks l WHERE l.pid = $1 AND NOT l.granted`

// lockWatcher watches one backend running DDL. A statement waiting for an
// ACCESS EXCLUSIVE lock behind a long transaction makes every later write
// on the table queue behind it; lock_timeout bounds that, but only after
// the writes have waited all of it. The watcher cancels the statement once
// it has waited `after` with at least one session queued behind it, so the
// traffic waits about `after`, not lock_timeout.
type lockWatcher struct {
	fired    atomic.Bool
	blockers blockers
	stop     chan struct{}
	cancel   context.CancelFunc
	done     sync.WaitGroup
}

// watchLocks starts a watcher on pid that steps back after `after`; nil
// when stepping back is off, when the threshold has grown to lock_timeout,
// or when the dialect is not PostgreSQL (pg_locks is PostgreSQL's).
func (c *coordinator) watchLocks(ctx context.Context, pid uint32, after time.Duration) *lockWatcher {
	if _, pg := c.d.(Postgres); !pg || after <= 0 || after >= c.opts.LockTimeout {
		return nil
	}
	// its own context: finish cancels a query waiting for a pool connection
	// (runTx holds one until the watcher is done)
	wctx, cancel := context.WithCancel(ctx)
	w := &lockWatcher{stop: make(chan struct{}), cancel: cancel}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		w.loop(wctx, c.pool, pid, after)
	}()
	return w
}

func (w *lockWatcher) loop(ctx context.Context, pool *pgxpool.Pool, pid uint32, after time.Duration) {
	tick := time.NewTicker(stepBackPoll)
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var waited float64
		var blocking bool
		if err := pool.QueryRow(ctx, stepBackQuery, int32(pid)).Scan(&waited, &blocking); err != nil {
			continue // a watcher that cannot look leaves lock_timeout in charge
		}
		if blocking && time.Duration(waited*float64(time.Second)) >= after {
			w.blockers = readBlockers(ctx, pool, pid)
			w.fired.Store(true)
			pool.Exec(ctx, "SELECT pg_cancel_backend($1)", int32(pid)) //nolint:errcheck
			return
		}
	}
}

// finish stops the watcher and, when it cancelled the statement that
// failed with err, marks err as a step back (retryable).
func (w *lockWatcher) finish(err error) error {
	if w == nil {
		return err
	}
	close(w.stop)
	w.cancel()
	w.done.Wait()
	var pe *pgconn.PgError
	if err != nil && w.fired.Load() && errors.As(err, &pe) && pe.Code == "57014" {
		return &steppedBack{err: err, blockers: w.blockers}
	}
	return err
}

func readBlockers(ctx context.Context, pool *pgxpool.Pool, pid uint32) blockers {
	var b blockers
	pool.QueryRow(ctx, `SELECT coalesce(array_agg(pid), '{}'), coalesce(array_agg(xact_start), '{}')
		FROM pg_stat_activity WHERE pid = ANY (pg_blocking_pids($1)) AND xact_start IS NOT NULL`,
		int32(pid)).Scan(&b.PIDs, &b.Starts) //nolint:errcheck // none known: retry after the usual backoff
	return b
}

// awaitBlockers waits, without queueing for any lock, until every
// transaction that blocked a stepped-back statement has ended, or until
// limit; it reports whether they ended.
func awaitBlockers(ctx context.Context, pool *pgxpool.Pool, b blockers, limit time.Time) bool {
	if len(b.PIDs) == 0 {
		return false
	}
	for time.Now().Before(limit) {
		var left int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity a
			JOIN unnest($1::int4[], $2::timestamptz[]) b(pid, xs) ON a.pid = b.pid AND a.xact_start = b.xs`,
			b.PIDs, b.Starts).Scan(&left)
		if err != nil {
			return false
		}
		if left == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(stepBackPoll):
		}
	}
	return false
}
