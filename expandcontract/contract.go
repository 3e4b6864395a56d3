package expandcontract

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Contract finishes the active version: after the drain check (no session
// on the old version) and the verify check, it validates constraints, drops
// what only the old version needed, renames the temporaries and drops the
// triggers and the old version's schema. Re-running it resumes; with no
// version in progress it does nothing.
func Contract(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Result, error) {
	opts, unlock, err := beginRun(ctx, pool, opts)
	if err != nil {
		return nil, err
	}
	defer unlock()
	v, err := activeVersion(ctx, pool, opts.Schema)
	if err != nil || v == nil {
		return &Result{Schema: opts.Schema, NothingToDo: true}, err
	}
	switch v.Status {
	case PhaseExpanding:
		return nil, fmt.Errorf("%w: expand of %s did not finish: run tidemark expand again (or rollback)", errkind.ErrPrecondition, v.VersionSchema)
	case PhaseRollingBack:
		return nil, fmt.Errorf("%w: rollback of %s is in progress: run tidemark rollback", errkind.ErrPrecondition, v.VersionSchema)
	}
	plan, err := v.plan(opts.Dialect)
	if err != nil {
		return nil, err
	}
	res := newResult(v)
	res.Resumed = v.Status == PhaseContracting
	if v.Status == PhaseExpanded {
		if err := Drain(ctx, pool, v.OldSchema, opts.DrainTimeout, opts.Logger); err != nil {
			return res, err
		}
		if !opts.SkipVerify {
			if res.Verify, err = RunVerify(ctx, pool, plan); err != nil {
				return res, err
			}
			if res.Verify.Mismatches > 0 {
				return res, &VerifyError{Report: res.Verify}
			}
		}
		if err := setStatus(ctx, pool, v, PhaseContracting); err != nil {
			return res, err
		}
	}
	c := v.coordinator(pool, opts, "contract")
	if res.Ran, res.Skipped, err = c.run(ctx, plan.Contract); err != nil {
		return res, err
	}
	if err := setStatus(ctx, pool, v, PhaseContracted); err != nil {
		return res, err
	}
	res.Phase = v.Status
	return res, nil
}
