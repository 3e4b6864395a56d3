package deploy

import (
	"fmt"
	"strings"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Service is one service as the deploy verbs see it: its database and the
// files its deploys use. Fleet files list them.
type Service struct {
	Name string `json:"name"`
	// Database is the service's database URL (never printed unredacted).
	Database string `json:"-"`
	// Migrations is a directory of golang-migrate files ("" = none).
	Migrations string `json:"migrations,omitempty"`
	// Expand lists expand/contract migration files started by Start.
	Expand []string `json:"expand,omitempty"`
	// Rules is the reconcile rules file run after a rollback ("" = none).
	Rules string `json:"rules,omitempty"`
	// SnapshotTables are the tables (collections) copied by the snapshot.
	SnapshotTables []string `json:"snapshot_tables,omitempty"`
	// DependsOn names services this one depends on (fleet only).
	DependsOn []string `json:"depends_on,omitempty"`
	// Priority orders services that are ready at the same time (higher first).
	Priority int `json:"priority,omitempty"`
}

// Validate checks the name and the database URL.
func (s Service) Validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return errkind.Usagef("a service needs a name (--service)")
	}
	if _, err := dburl.Parse(s.Database, ""); err != nil {
		return fmt.Errorf("service %s: %w", s.Name, err)
	}
	return nil
}

func (s Service) target() *dburl.URL {
	u, _ := dburl.Parse(s.Database, "")
	return u
}

// SnapshotMode says whether Start creates a snapshot.
type SnapshotMode string

const (
	// SnapshotAuto creates one when a Snapshotter is configured.
	SnapshotAuto SnapshotMode = ""
	// SnapshotNone skips the snapshot.
	SnapshotNone SnapshotMode = "none"
)

// StartOptions configures Start.
type StartOptions struct {
	// Release identifies the release (a commit SHA, a tag); required.
	Release string
	// Version is the service version deployed (default: Release).
	Version string
	// Snapshot chooses whether to snapshot first.
	Snapshot SnapshotMode
	// LockTimeout is how long to wait for the service's deploy lock.
	LockTimeout time.Duration
}

// SnapshotLabel is the label of a release's pre-deploy snapshot.
func SnapshotLabel(service, release string) string {
	return "deploy-" + service + "-" + release
}

// Step is what one step of a verb did.
type Step struct {
	Name     string        `json:"name"`
	Status   string        `json:"status"` // done, skipped, already-done, failed
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"duration_ns"`
}

// Step statuses.
const (
	StepDone    = "done"
	StepSkipped = "skipped"
	StepFailed  = "failed"
)
