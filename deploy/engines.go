package deploy

import (
	"context"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Engines are the engine operations a Deployer drives. A nil engine skips
// its steps (and says so in the result).
type Engines struct {
	Snapshots  Snapshotter
	Migrations Migrator
	Expansions Expander
	Reconcile  Reconciler
}

// Snapshotter creates and restores pre-deploy snapshots (pitr).
type Snapshotter interface {
	// CreateSnapshot is idempotent: an existing label returns its snapshot.
	CreateSnapshot(ctx context.Context, target *dburl.URL, req SnapshotRequest) (SnapshotInfo, error)
	// RestoreSnapshot restores the snapshot's tables into the live database.
	RestoreSnapshot(ctx context.Context, target *dburl.URL, req RestoreRequest) (RestoreInfo, error)
	// LastSnapshot returns the newest snapshot, or nil when there is none.
	LastSnapshot(ctx context.Context, target *dburl.URL) (*SnapshotInfo, error)
}

// SnapshotRequest asks for a snapshot.
type SnapshotRequest struct {
	Label  string
	Tables []string // table (or collection) snapshot; empty: marker only
}

// RestoreRequest asks for a table restore.
type RestoreRequest struct {
	Label  string
	Tables []string // empty: every table the snapshot covers
	// DiscardNewer restores even when the rows changed after the snapshot.
	DiscardNewer bool
}

// SnapshotInfo describes a snapshot.
type SnapshotInfo struct {
	Label     string    `json:"label"`
	CreatedAt time.Time `json:"created_at"`
	Position  string    `json:"position,omitempty"` // LSN, HLC timestamp or operation time
	Tables    []string  `json:"tables,omitempty"`
	Verified  bool      `json:"verified"`
}

// RestoreInfo describes a restore.
type RestoreInfo struct {
	Label    string        `json:"label"`
	Tables   []string      `json:"tables,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail,omitempty"`
}

// Migrator runs versioned migrations (migrator).
type Migrator interface {
	// MigrationVersion is the applied version (0: none).
	MigrationVersion(ctx context.Context, target *dburl.URL, dir string) (uint64, error)
	MigrateUp(ctx context.Context, target *dburl.URL, dir string) (MigrateInfo, error)
	// MigrateTo goes up or down to version (0: everything down).
	MigrateTo(ctx context.Context, target *dburl.URL, dir string, version uint64) (MigrateInfo, error)
}

// MigrateInfo is the result of a migration run.
type MigrateInfo struct {
	From    uint64 `json:"from"`
	To      uint64 `json:"to"`
	Applied int    `json:"applied"`
}

// Expander drives expand/contract migrations (expandcontract).
type Expander interface {
	// Expand starts (or resumes) the migrations in files as one version.
	Expand(ctx context.Context, target *dburl.URL, files []string) (ExpandInfo, error)
	// Contract finishes the in-flight migrations (after the drain check).
	Contract(ctx context.Context, target *dburl.URL) (ExpandInfo, error)
	// RollbackExpand undoes the in-flight migrations; nothing in flight is a no-op.
	RollbackExpand(ctx context.Context, target *dburl.URL) (ExpandInfo, error)
	// ExpandStatus reports the in-flight migrations.
	ExpandStatus(ctx context.Context, target *dburl.URL) (ExpandInfo, error)
}

// ExpandInfo describes the expand/contract state of a database.
type ExpandInfo struct {
	// Migrations are the migrations acted on (or in flight, for status).
	Migrations []string `json:"migrations"`
	// VersionSchema is the schema the new service version must use.
	VersionSchema string `json:"version_schema,omitempty"`
	// SearchPath is the search_path the new service version must set.
	SearchPath string `json:"search_path,omitempty"`
	// Phase is the state of the newest migration (e.g. expanded, backfilling).
	Phase string `json:"phase,omitempty"`
	// BackfillRows and BackfillTotal give the backfill progress.
	BackfillRows  int64 `json:"backfill_rows,omitempty"`
	BackfillTotal int64 `json:"backfill_total,omitempty"`
}

// Reconciler runs a service's reconcile rules (reconcile).
type Reconciler interface {
	// Check runs the rules and reports the breaks (a check that found breaks
	// is not an error here).
	Check(ctx context.Context, rulesFile string) (ReconcileInfo, error)
	// LastRun returns the newest recorded run on target, or nil.
	LastRun(ctx context.Context, target *dburl.URL) (*ReconcileInfo, error)
}

// ReconcileInfo is the result of a reconcile check.
type ReconcileInfo struct {
	At          time.Time      `json:"at"`
	Rules       string         `json:"rules,omitempty"`
	Breaks      int            `json:"breaks"`
	InFlight    int            `json:"in_flight,omitempty"`
	ByInvariant map[string]int `json:"by_invariant,omitempty"`
	Report      any            `json:"report,omitempty"`
}
