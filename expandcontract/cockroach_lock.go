package expandcontract

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/lock"
)

// lockRunFor takes the per-schema run lock of Expand, Contract and
// Rollback: on CockroachDB (a [Cockroach] dialect with its URL), where
// advisory locks do nothing, a lease row in tidemark.lock_leases renewed
// while held (internal/lock); elsewhere the PostgreSQL advisory lock.
func lockRunFor(ctx context.Context, pool *pgxpool.Pool, opts Options) (func(), error) {
	d, ok := opts.Dialect.(Cockroach)
	if !ok || d.URL == nil {
		return lockRun(ctx, pool, opts.Schema)
	}
	if err := ensureState(ctx, pool); err != nil {
		return nil, err
	}
	h, err := lock.Acquire(ctx, d.URL, "expandcontract:"+opts.Schema, lock.Options{Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBusy, err)
	}
	return func() { _ = h.Release(context.WithoutCancel(ctx)) }, nil
}
