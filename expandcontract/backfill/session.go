package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// lockClass is the first key of the job's advisory lock ("tbkf").
const lockClass = 0x74626b66

// claimWait is how long Run waits for the job's advisory lock. A statement
// of a cancelled run can still be finishing on the server (at most about
// one batch); a job really running elsewhere holds the lock for longer.
const claimWait = 5 * time.Second

// claim prepares the run's pinned connection: it takes the job's
// session-level advisory lock, so no two sessions (nor a new run and a
// statement of a cancelled one) ever update the same job's rows at once, and
// sets lock_timeout, so every batch gives up on a lock after d and is retried.
func claim(ctx context.Context, conn *pgxpool.Conn, jobID string, d time.Duration) error {
	deadline := time.Now().Add(claimWait)
	for {
		var ok bool
		err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", lockClass, jobID).Scan(&ok)
		if err != nil {
			return fmt.Errorf("lock job: %w", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return ErrBusy
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	_, err := conn.Exec(ctx, "SELECT set_config('lock_timeout', $1, false)", fmt.Sprintf("%dms", max(1, d.Milliseconds())))
	if err != nil {
		release(ctx, conn, jobID)
		return fmt.Errorf("set lock_timeout: %w", err)
	}
	return nil
}

// release undoes claim before the connection goes back to the pool, or
// closes the connection (the pool then drops it, and the server frees the
// lock) when it cannot.
func release(ctx context.Context, conn *pgxpool.Conn, jobID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_, err := conn.Exec(ctx, "RESET lock_timeout")
	if err == nil {
		_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock($1, hashtext($2))", lockClass, jobID)
	}
	if err != nil {
		conn.Conn().Close(ctx) //nolint:errcheck
	}
}
