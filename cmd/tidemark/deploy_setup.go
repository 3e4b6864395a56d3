package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/expandcontract"
	mongoec "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/migrator"
	"github.com/tidemark/tidemark/pitr"
	"github.com/tidemark/tidemark/reconcile"
)

// deploySession holds what one deploy command opened: control pools and metrics.
type deploySession struct {
	a       *app
	f       *deployFlags
	metrics *deploy.Metrics
	mu      sync.Mutex
	pools   map[string]*pgxpool.Pool
}

func (a *app) newDeploySession(f *deployFlags) *deploySession {
	return &deploySession{a: a, f: f, metrics: deploy.NewMetrics(), pools: map[string]*pgxpool.Pool{}}
}

// close closes the pools and writes the metrics file.
func (s *deploySession) close() error {
	for _, p := range s.pools {
		p.Close()
	}
	if s.f.metricsFile == "" {
		return nil
	}
	if err := os.WriteFile(s.f.metricsFile, []byte(s.metrics.Text()), 0o644); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// deployer returns the Deployer for a service: its control database is
// --state-url (or the fleet's state_url), else the service's own database.
func (s *deploySession) deployer(ctx context.Context, svc deploy.Service, stateURL string) (*deploy.Deployer, error) {
	raw := svc.Database
	if stateURL != "" {
		raw = stateURL
	}
	u, err := dburl.Parse(raw, s.a.dialect)
	if err != nil {
		return nil, err
	}
	if u.Engine == dburl.Mongo {
		return nil, errkind.Usagef("service %s: the deployment records need a PostgreSQL or CockroachDB control database: set --state-url (or state_url in the fleet file)", svc.Name)
	}
	pool, err := s.pool(ctx, u)
	if err != nil {
		return nil, err
	}
	return &deploy.Deployer{Control: pool, Engines: s.engines(), Log: s.a.log, Events: s.metrics.Observe, LockTimeout: s.f.lockTimeout}, nil
}

func (s *deploySession) pool(ctx context.Context, u *dburl.URL) (*pgxpool.Pool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.pools[u.Raw]; ok {
		return p, nil
	}
	cfg, err := pgxpool.ParseConfig(u.PGX())
	if err != nil {
		return nil, dburl.RedactError(err)
	}
	cfg.MaxConns = 8
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dburl.RedactError(err)
	}
	s.pools[u.Raw] = p
	return p, nil
}

// engines wires the real engines.
func (s *deploySession) engines() deploy.Engines {
	f := s.f
	return deploy.Engines{
		Migrations: deploy.Migrations{Options: migrator.Options{Logger: s.a.log, LockTimeout: f.lockTimeout}},
		Expansions: deploy.ExpandContract{
			Options: expandcontract.Options{Logger: s.a.log, DrainTimeout: f.drainTimeout},
			Mongo:   mongoec.Options{Logger: s.a.log},
		},
		Reconcile: deploy.Reconcile{
			Options:    reconcile.CheckOptions{Grace: f.grace, Workers: f.workers, Ranges: f.ranges, Logger: s.a.log},
			HTMLReport: f.report,
		},
		Snapshots: deploy.PITR{
			Options: pitr.Options{Logger: s.a.log, ArchiveDir: f.archiveDir},
			Create:  pitr.CreateOptions{BaseBackup: f.baseBackup, BackupDir: f.backupDir, BackupCommand: f.backupCommand, ArchiveWaitTimeout: f.archiveTimeout},
		},
	}
}

// service builds the single service of a non-fleet command from the flags,
// or picks it from --fleet.
func (s *deploySession) service() (deploy.Service, string, error) {
	f := s.f
	if f.fleet != "" {
		fl, err := deploy.LoadFleet(f.fleet)
		if err != nil {
			return deploy.Service{}, "", err
		}
		svc, ok := fl.Service(f.service)
		if !ok {
			return deploy.Service{}, "", errkind.Usagef("--service %q is not in %s", f.service, f.fleet)
		}
		return svc, firstNonEmpty(f.stateURL, fl.StateURL), nil
	}
	if f.service == "" {
		return deploy.Service{}, "", errkind.Usagef("--service is required")
	}
	if _, err := s.a.dbURL(); err != nil {
		return deploy.Service{}, "", err
	}
	svc := deploy.Service{Name: f.service, Database: s.a.database, Migrations: f.migrations, Expand: f.expand,
		Rules: f.rules, SnapshotTables: f.snapshotTables}
	return svc, f.stateURL, nil
}

func firstNonEmpty(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// githubOutput appends key=value lines to $GITHUB_OUTPUT.
func (s *deploySession) githubOutput(kv [][2]string) error {
	if !s.f.githubOutput {
		return nil
	}
	path := os.Getenv("GITHUB_OUTPUT")
	if path == "" {
		return errkind.Usagef("--github-output: GITHUB_OUTPUT is not set")
	}
	var b strings.Builder
	for _, p := range kv {
		fmt.Fprintf(&b, "%s=%s\n", p[0], strings.ReplaceAll(dburl.Redact(p[1]), "\n", " "))
	}
	fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("--github-output: %w", err)
	}
	defer fh.Close()
	_, err = fh.WriteString(b.String())
	return err
}
