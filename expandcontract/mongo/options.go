package mongo

import (
	"io"
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Options tune Expand, Contract and Rollback. The zero value is usable.
type Options struct {
	// BatchSize is the number of documents read and written per backfill
	// batch (default 500).
	BatchSize int
	// Logger receives progress and warnings (default: discard).
	Logger *slog.Logger
	// OnProgress is called after every backfill batch.
	OnProgress func(migration string, p Progress)
	// MaxExpandPasses bounds the convergence passes of expand (default 3):
	// writers of either version keep changing documents, so expand stops
	// after this many and leaves the rest to contract's final passes.
	MaxExpandPasses int
	// MaxFinalPasses bounds contract's and rollback's convergence passes
	// (default 20); when they do not converge, old-version writers are still
	// running and the run fails with errkind.ErrTemporary.
	MaxFinalPasses int
	// LockLease is the lock lease, renewed after every batch (default 60s).
	LockLease time.Duration
	// Hook, if set, is called at every named step boundary and batch (see
	// doc.go). Tests use it to kill the process at a chosen point.
	Hook func(point string)
}

func (o Options) withDefaults() Options {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.MaxExpandPasses <= 0 {
		o.MaxExpandPasses = 3
	}
	if o.MaxFinalPasses <= 0 {
		o.MaxFinalPasses = 20
	}
	if o.LockLease <= 0 {
		o.LockLease = time.Minute
	}
	return o
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.BatchSize < 0 || o.BatchSize > 100000 {
		return errkind.Usagef("batch size %d: want 1..100000", o.BatchSize)
	}
	return nil
}
