package backfill

import (
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
)

var (
	// ErrNoTable means the job's table does not exist.
	ErrNoTable = errors.New("backfill: no such table")
	// ErrCursorMismatch means a saved cursor with the job's ID belongs to
	// another table or key: the job ID is not stable, or the table changed.
	ErrCursorMismatch = errors.New("backfill: saved cursor belongs to another table or key")
	// ErrNoTouchColumn means a job with an empty Set has no column it can
	// assign to itself (every column is generated).
	ErrNoTouchColumn = errors.New("backfill: no column that can be assigned to itself")
	// ErrBusy means another session runs the same job (it holds the job's
	// advisory lock). It is temporary (exit 75): retry later.
	ErrBusy = fmt.Errorf("%w: backfill job is running in another session", errkind.ErrTemporary)
)
