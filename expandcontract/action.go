package expandcontract

// Action is one idempotent step of a phase, with a stable ID. The
// coordinator records each finished action in the state schema, in the same
// transaction as its DDL when it has one, so a re-run skips it.
type Action struct {
	ID       string   `json:"id"`
	SQL      []string `json:"sql,omitempty"`
	Lock     string   `json:"lock,omitempty"`
	Scans    bool     `json:"scans,omitempty"`
	Rewrites bool     `json:"rewrites,omitempty"`
	// NoTx actions (CREATE/DROP INDEX CONCURRENTLY) run outside a
	// transaction; they are idempotent through IF [NOT] EXISTS and catalog checks.
	NoTx bool `json:"no_tx,omitempty"`
	// Index, for a concurrent index build: an INVALID leftover is dropped
	// and the build retried; a valid one means the action is done.
	Index string `json:"index,omitempty"`
	// Backfill fills existing rows in batches (resumable).
	Backfill *BackfillJob `json:"backfill,omitempty"`
	// Views (re)creates the new version's schema of views.
	Views   *ViewsSpec `json:"views,omitempty"`
	Warning string     `json:"warning,omitempty"`
}

// BackfillJob is a batched UPDATE of every existing row of a table.
type BackfillJob struct {
	ID     string `json:"id"`
	Schema string `json:"schema"`
	Table  string `json:"table"`
	Set    string `json:"set"`
	// Filter, when set, leaves alone the rows it rejects (rows filled already).
	Filter string `json:"filter,omitempty"`
}

// ViewsSpec describes a version schema: a view per table in that version's shape.
type ViewsSpec struct {
	Schema        string      `json:"schema"`
	VersionSchema string      `json:"version_schema"`
	Tables        []ViewTable `json:"tables"`
	// Known lists the physical tables the plan knows (so tables created by
	// raw sql are added to the version as they are).
	Known []string `json:"known"`
}

// ViewTable is one view: the table's name in the version and its columns.
type ViewTable struct {
	Name     string      `json:"name"`
	Physical string      `json:"physical"`
	Columns  [][2]string `json:"columns"` // {name in version, physical column}
	// Hidden are physical columns this version does not show (dropped);
	// live columns neither listed nor hidden were added by raw sql and are shown.
	Hidden []string `json:"hidden,omitempty"`
}
