package pitr

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Manifest describes one snapshot: where it is, what it covers and what a
// restore needs. It is stored as JSON in the target database.
type Manifest struct {
	Label         string         `json:"label"`
	Database      string         `json:"database"` // redacted URL
	Engine        string         `json:"engine"`
	ServerVersion string         `json:"server_version"`
	CreatedAt     time.Time      `json:"created_at"`
	Position      Position       `json:"position"`
	BaseBackup    *BaseBackup    `json:"base_backup,omitempty"`
	Tables        []TableSum     `json:"tables,omitempty"`
	SnapshotStore string         `json:"snapshot_store,omitempty"` // schema/database holding table copies
	Requirements  []string       `json:"restore_requirements,omitempty"`
	Notes         []string       `json:"notes,omitempty"`
	Timings       Timings        `json:"timings"`
	External      *CommandRun    `json:"external_command,omitempty"`
	Existing      bool           `json:"existing"` // true when Create found the label already recorded
	Extra         map[string]any `json:"extra,omitempty"`
}

// Pending reports a PostgreSQL snapshot whose create was interrupted before
// its marker's WAL was seen archived (or before the marker was recorded):
// running the same create again finishes it.
func (m *Manifest) Pending() bool { return m.Engine == "postgres" && !m.Position.Archived }

// Position is the engine's own position of the snapshot point.
type Position struct {
	// PostgreSQL
	LSN          string `json:"lsn,omitempty"`
	Timeline     int    `json:"timeline,omitempty"`
	RestorePoint string `json:"restore_point,omitempty"`
	WALFile      string `json:"wal_file,omitempty"`
	ArchiveDir   string `json:"archive_dir,omitempty"`
	Archived     bool   `json:"archived,omitempty"`
	// CockroachDB
	HLC             string     `json:"hlc,omitempty"`
	RestorableUntil *time.Time `json:"restorable_until,omitempty"`
	BackupJobID     int64      `json:"backup_job_id,omitempty"`
	// MongoDB
	OperationTime string `json:"operation_time,omitempty"`
	ClusterTime   string `json:"cluster_time,omitempty"`
	MarkerID      string `json:"marker_id,omitempty"`
}

// BaseBackup is the physical backup a whole-database restore starts from.
type BaseBackup struct {
	ID       string      `json:"id"`
	Method   string      `json:"method"` // pg_basebackup, command, backup (CockroachDB)
	Dir      string      `json:"dir,omitempty"`
	Format   string      `json:"format,omitempty"` // plain
	StartLSN string      `json:"start_lsn,omitempty"`
	StartWAL string      `json:"start_wal_file,omitempty"`
	Timeline int         `json:"timeline,omitempty"`
	TakenAt  time.Time   `json:"taken_at"`
	Command  *CommandRun `json:"command,omitempty"`
	Location string      `json:"location,omitempty"`
	// ToolID is the backup tool's own id, read from its output
	// (pgBackRest's backup label, WAL-G's backup name, Barman's backup id,
	// or a `backup_id=ID` line); {backup_id} in templates prefers it.
	ToolID string `json:"tool_backup_id,omitempty"`
	// RestoreCommand is the restore template given when the backup was taken.
	RestoreCommand string `json:"restore_command,omitempty"`
}

// CommandRun records an external command tidemark ran.
type CommandRun struct {
	Command  string  `json:"command"`
	ExitCode int     `json:"exit_code"`
	Output   string  `json:"output"`
	Seconds  float64 `json:"seconds"`
}

// TableSum is one table or collection covered by a snapshot.
type TableSum struct {
	Name     string `json:"name"` // source table/collection
	Copy     string `json:"copy"` // snapshot copy (schema.table or db.collection)
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"`       // order-independent hash of all rows
	Algo     string `json:"algo,omitempty"` // how Checksum was computed
}

// Timings are the durations of the steps of an operation, in seconds.
type Timings map[string]float64

// Lap returns the seconds since *t and restarts *t at now, for the timings of
// successive steps.
func Lap(t *time.Time) float64 {
	d := time.Since(*t).Seconds()
	*t = time.Now()
	return d
}

// WriteManifestFile writes m as indented JSON to path.
func WriteManifestFile(path string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
