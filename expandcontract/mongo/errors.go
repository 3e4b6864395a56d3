package mongo

import (
	"errors"

	"github.com/tidemark/tidemark/internal/errkind"
)

var (
	// ErrNotExpanded: contract was asked to finish a migration whose expand
	// has not completed (run expand again, or rollback).
	ErrNotExpanded = errors.New("migration not fully expanded")
	// ErrInFlight: expand was given migrations while others are still in
	// flight (contract or rollback those first).
	ErrInFlight = errors.New("other migrations in flight")
	// ErrChanged: a migration file differs from the one its expand started with.
	ErrChanged = errors.New("migration file changed")
	// ErrValidatorNotEnforced is recorded (as a warning) when the server does
	// not support collMod validators (FerretDB v1.24).
	ErrValidatorNotEnforced = errors.New("validator recorded but not enforced by this server")
)

func errUsage(format string, args ...any) error { return errkind.Usagef(format, args...) }
