package reconcile

import "errors"

var (
	// ErrRules: the rules file is invalid (wraps errkind.ErrUsage; message is file:line: ...).
	ErrRules = errors.New("invalid rules")
	// ErrPlanChanged: the plan file's hash differs from --plan-hash (wraps errkind.ErrPrecondition).
	ErrPlanChanged = errors.New("plan changed after it was made")
	// ErrCapExceeded: the plan exceeds --max-actions or --max-amount (wraps errkind.ErrPrecondition).
	ErrCapExceeded = errors.New("plan exceeds a cap")
	// ErrBroken: Check found breaks (wraps errkind.ErrProblemsFound); returned by Report.Err.
	ErrBroken = errors.New("invariants broken")
)
