package deploy

import "errors"

var (
	// ErrNoDeployment means the service has no recorded deployment to finish
	// or roll back. It wraps errkind.ErrPrecondition (exit 3).
	ErrNoDeployment = errors.New("no deployment recorded")
	// ErrBlocked means a fleet service was not rolled back because a service
	// it must wait for failed.
	ErrBlocked = errors.New("blocked by a failed dependant")
)
