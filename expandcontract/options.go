package expandcontract

import (
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Options tune Expand, Contract and Rollback. Zero values take the defaults.
type Options struct {
	// Schema holds the tables (default "public").
	Schema string
	// Dialect builds the SQL (default Postgres).
	Dialect Dialect
	// LockTimeout is SET LOCAL lock_timeout for every DDL statement (default 500ms).
	LockTimeout time.Duration
	// StepBackAfter: a DDL statement that has waited this long for its lock
	// while other sessions queue behind it is cancelled and retried later,
	// so writes wait about this long rather than the whole lock_timeout
	// (default 50ms; negative: off, lock_timeout alone bounds the wait).
	StepBackAfter time.Duration
	// DDLDeadline bounds the retries of one DDL statement (default 2m);
	// then the run fails with an ErrTemporary error (exit 75).
	DDLDeadline time.Duration
	// Backfill tuning (see package backfill).
	TargetBatch       time.Duration
	MaxRate           float64
	MaxReplicationLag time.Duration
	// Verify checks new = up(old) on every row after the expand.
	Verify bool
	// SkipVerify skips the check contract runs before it drops anything.
	SkipVerify bool
	// DrainTimeout: how long contract and rollback wait for sessions on the
	// version they drop (0: refuse at once).
	DrainTimeout time.Duration
	Logger       *slog.Logger
	// OnProgress receives backfill progress per table.
	OnProgress func(table string, p backfill.Progress)
}

func (o Options) withDefaults() (Options, error) {
	if o.Schema == "" {
		o.Schema = "public"
	}
	if o.Dialect == nil {
		o.Dialect = Postgres{}
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	if o.StepBackAfter == 0 {
		o.StepBackAfter = 50 * time.Millisecond
	}
	if o.DDLDeadline == 0 {
		o.DDLDeadline = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LockTimeout < 0 || o.DDLDeadline < 0 || o.DrainTimeout < 0 || o.MaxRate < 0 {
		return o, errkind.Usagef("lock timeout, DDL deadline, drain timeout and max rate must not be negative")
	}
	return o, nil
}
