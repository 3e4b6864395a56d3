package backfill

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Job names one backfill: which rows of which table get which SET list.
type Job struct {
	// ID is stable across runs; the cursor is stored under it.
	ID            string
	Schema, Table string
	// Set is an SQL SET list, e.g. `"_tm_new_c" = ("c" * 100)::bigint`.
	// Empty means touch each row (assign a column to itself) so that the
	// table's triggers compute the values.
	Set string
	// Where is an optional extra predicate over the table's columns; batches
	// are cut over the rows it selects.
	Where string
	// Filter is a predicate only the UPDATE of each batch applies: batches
	// are still cut over the key (an index-only scan) and rows it rejects
	// are left alone (e.g. rows a concurrent writer already filled).
	Filter string
}

// Options tune a run. The zero value is usable: see the defaults below.
type Options struct {
	// TargetBatch is the duration each batch aims for (default 100ms); the
	// batch size adapts to hit it.
	TargetBatch time.Duration
	// InitialBatch is the first batch's size in rows (default 1000).
	InitialBatch int
	// MaxBatch caps the batch size in rows (default 100000).
	MaxBatch int
	// MaxRate caps rows per second; 0 means unlimited.
	MaxRate float64
	// MaxReplicationLag pauses the backfill while any standby in
	// pg_stat_replication lags more than this; 0 ignores replication.
	MaxReplicationLag time.Duration
	// LockTimeout is SET LOCAL lock_timeout for each batch (default 500ms);
	// a batch that times out is retried with backoff and jitter.
	LockTimeout time.Duration
	// MaxRetries bounds the retries of one batch (default 30); then Run
	// fails with an errkind.ErrTemporary error.
	MaxRetries int
	// Logger receives debug lines per batch and info lines on start, pause
	// and finish; nil discards.
	Logger *slog.Logger
	// OnProgress, when set, is called after every batch and once at the end
	// (Done true), from Run's goroutine.
	OnProgress func(Progress)
}

// Progress is reported after each batch.
type Progress struct {
	// Rows is the number of rows done so far, earlier runs of the job included.
	Rows int64
	// Total is the estimated number of rows to do (from pg_class.reltuples,
	// raised when Rows passes it).
	Total      int64
	RatePerSec float64
	ETA        time.Duration
	Done       bool
}

// Result summarises one Run.
type Result struct {
	// Rows and Batches count this run's work only (0 when the job was
	// already done).
	Rows     int64
	Batches  int
	Duration time.Duration
}

func (o Options) withDefaults() Options {
	if o.TargetBatch <= 0 {
		o.TargetBatch = 100 * time.Millisecond
	}
	if o.InitialBatch <= 0 {
		o.InitialBatch = 1000
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 100000
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = 500 * time.Millisecond
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 30
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func (j Job) validate() error {
	switch {
	case j.ID == "":
		return errkind.Usagef("backfill: job without an ID")
	case j.Table == "":
		return errkind.Usagef("backfill %s: job without a table", j.ID)
	}
	return nil
}

func (j Job) String() string {
	s := j.Schema
	if s == "" {
		s = "public"
	}
	return fmt.Sprintf("%s (%s.%s)", j.ID, s, j.Table)
}
