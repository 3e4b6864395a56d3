package pitr

import "errors"

var (
	// ErrNotFound means no snapshot with that label is recorded. It is a
	// usage error (exit 2) at the command line.
	ErrNotFound = errors.New("snapshot not found")
	// ErrUnsupported means the provider cannot do what was asked (e.g. a
	// whole-cluster restore on MongoDB).
	ErrUnsupported = errors.New("not supported by this engine")
)
