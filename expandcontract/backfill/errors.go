package backfill

import "errors"

var (
	// ErrNoTable means the job's table does not exist.
	ErrNoTable = errors.New("backfill: no such table")
	// ErrCursorMismatch means a saved cursor with the job's ID belongs to
	// another table or key: the job ID is not stable, or the table changed.
	ErrCursorMismatch = errors.New("backfill: saved cursor belongs to another table or key")
	// ErrNoTouchColumn means a job with an empty Set has no column it can
	// assign to itself (every column is generated).
	ErrNoTouchColumn = errors.New("backfill: no column that can be assigned to itself")
)
