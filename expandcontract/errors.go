package expandcontract

import (
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
)

var (
	// ErrVersionActive: expand found another version not yet contracted or
	// rolled back (exit 3).
	ErrVersionActive = errors.New("another expand/contract migration is in progress")
	// ErrSessionsOnVersion: the drain check found sessions still using the
	// version about to be dropped (exit 3). The error is a *DrainError.
	ErrSessionsOnVersion = errors.New("sessions still use the version")
	// ErrVerify: rows where new != up(old) (exit 4). The error is a *VerifyError.
	ErrVerify = errors.New("verify found mismatching rows")
	// ErrBusy: another tidemark run holds the expand/contract lock (exit 75).
	ErrBusy = errors.New("another expand/contract run is in progress")
	// ErrLockTimeout: a DDL statement could not get its lock before --ddl-deadline (exit 75).
	ErrLockTimeout = errors.New("could not take the lock before the DDL deadline")
)

func errUsage(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errkind.ErrUsage, fmt.Sprintf(format, args...))
}
