package records

import "errors"

// ErrNotFound means no record matched (no deployment for the service, no
// deployment with that id).
var ErrNotFound = errors.New("no such record")
