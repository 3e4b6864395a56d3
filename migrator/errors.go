package migrator

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tidemark/tidemark/internal/errkind"
)

var (
	// ErrSource: the source directory is missing or unreadable, or holds
	// duplicate or unparsable migration files (wraps errkind.ErrUsage).
	ErrSource = errors.New("bad migration source")
	// ErrMissingDown: down (or goto) needs a .down file that does not exist
	// (wraps errkind.ErrUsage).
	ErrMissingDown = errors.New("missing down migration")
	// ErrDrift: an applied migration file was edited (or removed) since it was
	// applied; up refuses to pass it without AllowDrift (wraps errkind.ErrPrecondition).
	ErrDrift = errors.New("checksum drift")
	// ErrUnknownVersion: goto names a version that has no migration file.
	ErrUnknownVersion = errors.New("unknown version")
	// ErrResume: a half-applied non-transactional migration cannot be resumed
	// because its applied statements were edited (wraps errkind.ErrPrecondition).
	ErrResume = errors.New("cannot resume")
)

func sourceErr(format string, args ...any) error {
	return errkind.Usagef("%w: "+format, append([]any{ErrSource}, args...)...)
}

// StatementError is an error from one statement (or MongoDB command) of a
// migration file: it names the file, the line and the statement.
type StatementError struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Index     int    `json:"index"` // 1-based statement number in the file
	Statement string `json:"statement"`
	Err       error  `json:"-"`
}

func (e *StatementError) Error() string {
	return fmt.Sprintf("%s:%d: statement %d failed: %v: %s", e.File, e.Line, e.Index, e.Err, shorten(e.Statement, 200))
}

func (e *StatementError) Unwrap() error { return e.Err }

// shorten puts s on one line and cuts it to n characters.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
