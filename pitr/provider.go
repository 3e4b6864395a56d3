package pitr

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Provider is one engine's snapshot implementation.
type Provider interface {
	// Create records a snapshot (idempotent by label).
	Create(ctx context.Context, o CreateOptions) (*Manifest, error)
	// List returns all recorded snapshots, oldest first.
	List(ctx context.Context) ([]*Manifest, error)
	// Get returns one snapshot or an error wrapping ErrNotFound.
	Get(ctx context.Context, label string) (*Manifest, error)
	// Verify checks that a snapshot is restorable; failures wrap
	// errkind.ErrProblemsFound and the report lists every check.
	Verify(ctx context.Context, label string, o VerifyOptions) (*VerifyReport, error)
	// Restore restores a snapshot (a whole cluster into a new place, or the
	// covered tables in place).
	Restore(ctx context.Context, label string, o RestoreOptions) (*RestoreResult, error)
	// Close releases connections.
	Close(ctx context.Context) error
}

// Options configure a provider.
type Options struct {
	// Logger receives progress; nil discards it.
	Logger *slog.Logger
	// ArchiveDir is the PostgreSQL WAL archive directory; empty means: read
	// it from archive_command (cp/test commands) when possible.
	ArchiveDir string
}

// Base backup methods for CreateOptions.BaseBackup.
const (
	BackupNone         = "none"
	BackupPGBaseBackup = "pg_basebackup"
	BackupCommand      = "command"
	// BackupNative is the engine's own backup (CockroachDB: BACKUP INTO BackupDir).
	BackupNative = "backup"
)

// CreateOptions configure Create.
type CreateOptions struct {
	Label string
	// Tables (or collections) to copy into a snapshot schema/database.
	Tables []string
	// TableDir, when set, holds the table snapshot as COPY text files (one per
	// table) instead of a snapshot schema in the database (PostgreSQL).
	TableDir string
	// BaseBackup: none (use the latest recorded one), pg_basebackup or command.
	BaseBackup string
	// BackupDir is where pg_basebackup backups go (one subdirectory each).
	BackupDir string
	// BackupFormat is pg_basebackup's format: plain (default) or tar.
	BackupFormat string
	// BackupCommand is a template run for BaseBackup=command (and on MongoDB
	// as an external backup command); {label}, {database}, {dir} are replaced.
	BackupCommand string
	// RestoreCommand is a template that fills a new data directory from the
	// base backup ({dir}, {label}, {backup_id}, {restore_point},
	// {archive_dir}, {backup_dir}); it is recorded with the base backup so
	// verify --drill and restore can reuse it (PostgreSQL).
	RestoreCommand string
	// ArchiveWaitTimeout bounds the wait for the marker's WAL to be archived.
	ArchiveWaitTimeout time.Duration
	// Parallel is the number of connections copying tables (default 4).
	Parallel int
}

// Validate checks the options and fills in defaults.
func (o *CreateOptions) Validate() error {
	if o.Label == "" {
		return errkind.Usagef("a snapshot label is required")
	}
	if len(o.Label) > 63 {
		return errkind.Usagef("label %q is too long (max 63 bytes, PostgreSQL's restore point limit)", o.Label)
	}
	for _, r := range o.Label {
		if r < 0x20 || r == 0x7f {
			return errkind.Usagef("label %q contains a control character", o.Label)
		}
	}
	switch o.BaseBackup {
	case "":
		o.BaseBackup = BackupNone
	case BackupNone, BackupPGBaseBackup:
	case BackupNative:
		if o.BackupDir == "" {
			return errkind.Usagef("--base-backup backup needs --backup-dir (a BACKUP destination URI)")
		}
	case BackupCommand:
		if o.BackupCommand == "" {
			return errkind.Usagef("--base-backup command needs --backup-command")
		}
	default:
		return errkind.Usagef("--base-backup %q: want pg_basebackup, command, backup or none", o.BaseBackup)
	}
	if o.BaseBackup == BackupPGBaseBackup && o.BackupDir == "" {
		return errkind.Usagef("--base-backup pg_basebackup needs --backup-dir")
	}
	switch o.BackupFormat {
	case "":
		o.BackupFormat = "plain"
	case "plain", "tar":
	default:
		return errkind.Usagef("--backup-format %q: want plain or tar", o.BackupFormat)
	}
	if o.ArchiveWaitTimeout <= 0 {
		o.ArchiveWaitTimeout = 60 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	return nil
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Drill runs a real restore into a scratch place and compares checksums.
	Drill bool
	// Command is the backup tool's own verify, a template like BackupCommand
	// ({label}, {backup_id}, {dir}), e.g. `pgbackrest --stanza=main verify`.
	// Its exit status AND its output are checked: pgbackrest verify exits 0
	// after printing errors.
	Command string
	// RestoreCommand fills the drill's scratch data directory (see
	// RestoreOptions.RestoreCommand); empty: the one recorded with the base backup.
	RestoreCommand string
}

// Check is one verification step.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Label   string  `json:"label"`
	OK      bool    `json:"ok"`
	Checks  []Check `json:"checks"`
	Timings Timings `json:"timings,omitempty"`
}

// NewVerifyReport starts an empty, passing report for label.
func NewVerifyReport(label string) *VerifyReport {
	return &VerifyReport{Label: label, OK: true, Timings: Timings{}}
}

// Add appends a check and keeps OK up to date.
func (r *VerifyReport) Add(name string, err error, detail string) {
	c := Check{Name: name, OK: err == nil, Detail: detail}
	if err != nil {
		c.Detail = dburl.Redact(err.Error())
	}
	r.Checks = append(r.Checks, c)
	r.OK = r.OK && c.OK
}

// Err returns an ErrProblemsFound error when a check failed.
func (r *VerifyReport) Err() error {
	for _, c := range r.Checks {
		if !c.OK {
			return errkind.Problemsf("snapshot %q is not restorable: %s: %s", r.Label, c.Name, c.Detail)
		}
	}
	return nil
}

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// TargetDir is a new (absent or empty) data directory for a whole-cluster restore.
	TargetDir string
	// Port for the restored server; 0 picks a free port.
	Port int
	// Tables restores these tables (collections) of the snapshot's table
	// snapshot into the live database instead of a whole-cluster restore.
	Tables []string
	// AllTables restores every table the snapshot covers.
	AllTables bool
	// DiscardNewer restores tables even when their rows changed after the snapshot.
	DiscardNewer bool
	// RestoreCommand is a template run to fill TargetDir from the base backup
	// (pgBackRest, WAL-G, Barman): {dir}, {label}, {backup_id},
	// {restore_point}, {archive_dir}, {backup_dir}. Empty: the one recorded
	// with the base backup, else tidemark copies a pg_basebackup backup.
	RestoreCommand string
}

// RestoreResult describes a finished restore.
type RestoreResult struct {
	Label      string     `json:"label"`
	Mode       string     `json:"mode"` // cluster or tables
	TargetDir  string     `json:"target_dir,omitempty"`
	Port       int        `json:"port,omitempty"`
	URL        string     `json:"url,omitempty"` // redacted
	Tables     []TableSum `json:"tables,omitempty"`
	Timings    Timings    `json:"timings"`
	SwitchOver []string   `json:"switch_over,omitempty"`
	// Command is the restore command's run, when one filled the directory.
	Command *CommandRun `json:"restore_command,omitempty"`
}

// OpenFunc opens a provider for a URL.
type OpenFunc func(ctx context.Context, u *dburl.URL, o Options) (Provider, error)

var registry = struct {
	sync.RWMutex
	m map[dburl.Engine]OpenFunc
}{m: map[dburl.Engine]OpenFunc{}}

// Register makes a provider available for an engine (called from init).
func Register(e dburl.Engine, f OpenFunc) {
	registry.Lock()
	defer registry.Unlock()
	registry.m[e] = f
}

// Open returns the provider registered for u's engine.
func Open(ctx context.Context, u *dburl.URL, o Options) (Provider, error) {
	registry.RLock()
	f := registry.m[u.Engine]
	registry.RUnlock()
	if f == nil {
		return nil, fmt.Errorf("%w: no snapshot provider for %s (import pitr/all)", ErrUnsupported, u.Engine)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return f(ctx, u, o)
}
