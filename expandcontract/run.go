package expandcontract

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// beginRun applies the option defaults and takes the run lock that Expand,
// Contract and Rollback hold for their whole run; call unlock when done.
func beginRun(ctx context.Context, pool *pgxpool.Pool, opts Options) (_ Options, unlock func(), _ error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return opts, nil, err
	}
	unlock, err = lockRunFor(ctx, pool, opts)
	return opts, unlock, err
}

// plan rebuilds the version's plan from its stored schema snapshot, so a
// resumed run replays exactly the actions (and IDs) of the first.
func (v *versionRow) plan(d Dialect) (*Plan, error) {
	return NewPlan(d, v.Snapshot, v.OldSchema, v.Migrations)
}

// coordinator returns the coordinator that runs the version's actions of phase.
func (v *versionRow) coordinator(pool *pgxpool.Pool, opts Options, phase string) *coordinator {
	return &coordinator{pool: pool, d: opts.Dialect, opts: opts, v: v, phase: phase, log: opts.Logger}
}
