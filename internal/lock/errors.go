package lock

import (
	"errors"
	"fmt"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
)

// ErrHeld means another run holds the lock. Errors returned by [Acquire] on
// timeout are [*HeldError]s that wrap it and errkind.ErrTemporary.
var ErrHeld = errors.New("lock held by another run")

// HeldError is returned by [Acquire] when the lock was still held by another
// run when the timeout passed.
type HeldError struct {
	Key    string
	Holder Holder // zero if the holder could not be read
	Waited time.Duration
}

func (e *HeldError) Error() string {
	who := "another run (holder unknown)"
	if e.Holder.Host != "" || e.Holder.PID != 0 {
		who = fmt.Sprintf("host %s pid %d since %s", e.Holder.Host, e.Holder.PID, e.Holder.Since.UTC().Format(time.RFC3339))
		if e.Holder.What != "" {
			who += fmt.Sprintf(" (%s)", e.Holder.What)
		}
	}
	return fmt.Sprintf("lock %q is held by %s; waited %s: retry later", e.Key, who, e.Waited.Round(time.Millisecond))
}

// Unwrap lets errors.Is see ErrHeld and errkind.ErrTemporary (exit 75).
func (e *HeldError) Unwrap() []error { return []error{ErrHeld, errkind.ErrTemporary} }
