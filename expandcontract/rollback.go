package expandcontract

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Rollback removes everything the active version's expand added (at any
// point before contract, an interrupted expand or backfill included), after
// the drain check on the new version. The old version is left as it was.
func Rollback(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Result, error) {
	opts, unlock, err := beginRun(ctx, pool, opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := activeVersion(ctx, pool, opts.Schema)
	if err != nil || v == nil {
		return &Result{Schema: opts.Schema, NothingToDo: true}, err
	}
	if v.Status == PhaseContracting {
		return nil, fmt.Errorf("%w: contract of %s has started and cannot be rolled back: run tidemark contract", errkind.ErrPrecondition, v.VersionSchema)
	}
	plan, err := v.plan(opts.Dialect)
	if err != nil {
		return nil, err
	}
	res := newResult(v)
	res.Resumed = v.Status == PhaseRollingBack
	if v.Status != PhaseRollingBack {
		if err := Drain(ctx, pool, v.VersionSchema, opts.DrainTimeout, opts.Logger); err != nil {
			return res, err
		}
		if err := setStatus(ctx, pool, v, PhaseRollingBack); err != nil {
			return res, err
		}
	}
	c := v.coordinator(pool, opts, "rollback")
	if res.Ran, res.Skipped, err = c.run(ctx, plan.Rollback); err != nil {
		return res, err
	}
	for _, a := range plan.Expand {
		if a.Backfill != nil {
			if err := backfill.Reset(ctx, pool, a.Backfill.ID); err != nil {
				return res, fmt.Errorf("forget backfill cursor: %w", err)
			}
		}
	}
	if err := setStatus(ctx, pool, v, PhaseRolledBack); err != nil {
		return res, err
	}
	res.Phase = v.Status
	return res, nil
}
