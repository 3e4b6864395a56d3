// Package errkind holds the error kinds every tidemark package shares.
//
// Library packages wrap these sentinels (fmt.Errorf("%w: ...", errkind.ErrPrecondition))
// so the command line can map any error to its documented exit code with
// errors.Is, without knowing the package that produced it.
package errkind

import (
	"errors"
	"fmt"
)

var (
	// ErrUsage: bad flags, arguments, configuration or input files (exit 2).
	ErrUsage = errors.New("usage error")
	// ErrPrecondition: the database is not in a state that allows the operation,
	// e.g. archiving off or clients still on the old version (exit 3).
	ErrPrecondition = errors.New("precondition failed")
	// ErrProblemsFound: a check ran and found problems, e.g. reconcile findings
	// or a snapshot that is not restorable (exit 4).
	ErrProblemsFound = errors.New("problems found")
	// ErrTemporary: try again later, e.g. a lock held by another run (exit 75).
	ErrTemporary = errors.New("temporary failure")
)

// Exit codes, as documented in the README and ARCHITECTURE.md.
const (
	ExitOK           = 0
	ExitFailure      = 1
	ExitUsage        = 2
	ExitPrecondition = 3
	ExitProblems     = 4
	ExitTemporary    = 75
)

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrUsage):
		return ExitUsage
	case errors.Is(err, ErrPrecondition):
		return ExitPrecondition
	case errors.Is(err, ErrProblemsFound):
		return ExitProblems
	case errors.Is(err, ErrTemporary):
		return ExitTemporary
	default:
		return ExitFailure
	}
}

// Usagef returns an error of kind ErrUsage.
func Usagef(format string, args ...any) error { return wrap(ErrUsage, format, args...) }

// Preconditionf returns an error of kind ErrPrecondition.
func Preconditionf(format string, args ...any) error { return wrap(ErrPrecondition, format, args...) }

// Temporaryf returns an error of kind ErrTemporary.
func Temporaryf(format string, args ...any) error { return wrap(ErrTemporary, format, args...) }

// Problemsf returns an error of kind ErrProblemsFound.
func Problemsf(format string, args ...any) error { return wrap(ErrProblemsFound, format, args...) }

type kindError struct {
	kind error
	msg  string
	errs []error
}

func (e *kindError) Error() string { return e.msg }

// Unwrap exposes both the kind and any %w-wrapped causes to errors.Is/As.
func (e *kindError) Unwrap() []error { return append([]error{e.kind}, e.errs...) }

func wrap(kind error, format string, args ...any) error {
	inner := fmt.Errorf(format, args...)
	var errs []error
	if u, ok := inner.(interface{ Unwrap() error }); ok && u.Unwrap() != nil {
		errs = append(errs, u.Unwrap())
	}
	if u, ok := inner.(interface{ Unwrap() []error }); ok {
		errs = append(errs, u.Unwrap()...)
	}
	return &kindError{kind: kind, msg: inner.Error(), errs: errs}
}
