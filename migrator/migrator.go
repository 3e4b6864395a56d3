package migrator

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Options configure a [Migrator]. The zero value (plus Source) works.
type Options struct {
	// Source is the migration directory (default ./migrations).
	Source string
	// LockTimeout is how long to wait for another run's lock (0: fail at
	// once if held). On timeout the error names the holder (exit 75).
	LockTimeout time.Duration
	// LockTimeoutDDL sets lock_timeout for each migration's session, so a
	// migration gives up instead of queueing behind a long transaction while
	// blocking the traffic behind it (PostgreSQL, CockroachDB; 0: unset).
	LockTimeoutDDL time.Duration
	// StatementTimeout sets statement_timeout for each migration's session
	// (for MongoDB, a deadline per command; 0: unset).
	StatementTimeout time.Duration
	// AllowDrift lets up pass an applied file edited since, and resume a
	// half-applied non-transactional migration whose done statements changed.
	AllowDrift bool
	// Deployment, if set, records the run as a deployment of a service
	// release in the fleet records (internal/records).
	Deployment *Deployment
	// Logger receives progress (default: discard).
	Logger *slog.Logger
}

// Deployment names the service release a run deploys.
type Deployment struct {
	Service string
	Release string
	// StateURL is the control database for the records (PostgreSQL or
	// CockroachDB); default: the target database (required for MongoDB).
	StateURL *dburl.URL
}

// Migrator runs versioned migrations from one source directory against one
// database. It is not safe for concurrent use; concurrent runs (other
// processes) are serialised by the database lock.
type Migrator struct {
	url  *dburl.URL
	src  *Source
	opts Options
	eng  engine
	log  *slog.Logger
	host string
}

// engine is one database family's history store and executor.
type engine interface {
	applied(ctx context.Context) ([]Applied, error)
	history(ctx context.Context) ([]Attempt, error)
	// lastAttempt returns the newest attempt of (version, direction), or nil.
	lastAttempt(ctx context.Context, version uint64, direction string) (*Attempt, error)
	// interruptStale marks attempts still "running" as interrupted (called
	// under the run lock, so no other run is in flight).
	interruptStale(ctx context.Context) error
	// apply runs one step and records it; it returns the attempt as recorded.
	apply(ctx context.Context, j *job) (*Attempt, error)
	user() string
	close(ctx context.Context)
}

// Open loads the source directory and connects to the database, creating or
// upgrading tidemark's state (the migrate_history table) on first use.
func Open(ctx context.Context, u *dburl.URL, opts Options) (*Migrator, error) {
	if opts.Source == "" {
		opts.Source = "migrations"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if d := opts.Deployment; d != nil {
		if d.Service == "" || d.Release == "" {
			return nil, errkind.Usagef("a deployment record needs both --service and --release")
		}
		if d.StateURL == nil && u.Engine == dburl.Mongo {
			return nil, errkind.Usagef("deployment records need a PostgreSQL or CockroachDB control database: set --state-url")
		}
	}
	src, err := LoadSource(opts.Source, u.Engine)
	if err != nil {
		return nil, err
	}
	m := &Migrator{url: u, src: src, opts: opts, log: opts.Logger}
	m.host, _ = os.Hostname()
	if u.Engine == dburl.Mongo {
		m.eng, err = openMongo(ctx, u, opts)
	} else {
		m.eng, err = openPG(ctx, u, opts)
	}
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("connect to %s: %w", u, err))
	}
	return m, nil
}

// Source returns the parsed migration directory.
func (m *Migrator) Source() *Source { return m.src }

// Close closes the database connection.
func (m *Migrator) Close(ctx context.Context) { m.eng.close(ctx) }
