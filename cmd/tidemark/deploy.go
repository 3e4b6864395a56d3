package main

import (
	"time"

	"github.com/spf13/cobra"
)

// deployFlags are the options shared by the deploy subcommands.
type deployFlags struct {
	service, release, stateURL, fleet, metricsFile       string
	migrations, rules, archiveDir, baseBackup, backupDir string
	backupCommand, report                                string
	githubOutput                                         bool
	workers, ranges                                      int
	expand, snapshotTables                               []string
	lockTimeout, archiveTimeout, drainTimeout, grace     time.Duration
}

func (a *app) deployCmd() *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Pipeline verbs around a service release: start, finish, rollback, status",
		Long: `The database side of a deploy pipeline, for one service (--service with
--database) or a fleet (--fleet fleet.yaml):

  deploy start     before the new version rolls out: lock, snapshot, migrate up,
                   expand; prints the version schema / search_path to use
  deploy finish    after the rollout: contract (with the drain check)
  deploy rollback  undo the release's schema changes, then reconcile (exit 4
                   when the data is inconsistent afterwards)
  deploy status    every service's version, in-flight migrations, last snapshot
                   and last reconcile result

Each verb is idempotent: re-run it after a crash and it continues, or returns
the recorded result. Records go to --state-url (default: the service database).`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.service, "service", "", "service name (with --fleet: a comma-separated list for rollback)")
	pf.StringVar(&f.release, "release", "", "release identifier, e.g. a commit SHA or tag")
	pf.StringVar(&f.stateURL, "state-url", "", "control database for the fleet records (default: the service database)")
	pf.StringVar(&f.fleet, "fleet", "", "fleet file listing services, databases, files and dependencies")
	pf.StringVar(&f.metricsFile, "metrics-file", "", "write Prometheus text metrics of the run to this file")
	pf.BoolVar(&f.githubOutput, "github-output", false, "append key=value results to the file named by $GITHUB_OUTPUT (GitHub Actions step outputs)")
	pf.StringVar(&f.migrations, "migrations", "", "directory of versioned migrations (golang-migrate files)")
	pf.StringSliceVar(&f.expand, "expand", nil, "expand/contract migration file(s) (repeatable)")
	pf.StringVar(&f.rules, "rules", "", "reconcile rules file run after a rollback")
	pf.DurationVar(&f.grace, "grace", 30*time.Second, "reconcile: how long a suspect difference waits before its re-check")
	pf.IntVar(&f.workers, "workers", 4, "reconcile: key ranges compared at once")
	pf.IntVar(&f.ranges, "ranges", 0, "reconcile: key ranges per invariant (default 8 per worker)")
	pf.StringVar(&f.report, "report", "", "reconcile: write the HTML report of the check after a rollback to this file")
	pf.StringSliceVar(&f.snapshotTables, "snapshot-tables", nil, "tables (collections) the pre-deploy snapshot copies")
	pf.DurationVar(&f.lockTimeout, "lock-timeout", 30*time.Second, "how long to wait for the service's deploy lock (then exit 75)")
	pf.StringVar(&f.archiveDir, "archive-dir", "", "PostgreSQL WAL archive directory (default: read from archive_command)")
	pf.StringVar(&f.baseBackup, "base-backup", "none", "base backup before the snapshot: none (latest recorded), pg_basebackup or command")
	pf.StringVar(&f.backupDir, "backup-dir", "", "directory for pg_basebackup backups")
	pf.StringVar(&f.backupCommand, "backup-command", "", "backup command template for --base-backup command ({label}, {database}, {dir})")
	pf.DurationVar(&f.drainTimeout, "drain-timeout", 0, "how long contract and rollback wait for clients of the version they drop (0: refuse at once, exit 3)")
	pf.DurationVar(&f.archiveTimeout, "archive-timeout", time.Minute, "how long to wait for the snapshot's WAL to be archived")
	cmd.AddCommand(a.deployStartCmd(f), a.deployFinishCmd(f), a.deployRollbackCmd(f), a.deployStatusCmd(f))
	return cmd
}

func (a *app) deployStartCmd(f *deployFlags) *cobra.Command {
	var version, snapshot string
	cmd := &cobra.Command{
		Use:   "start --service NAME --release R",
		Short: "Pre-deploy step: lock, snapshot, migrate up, expand, record",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.deployStart(cmd.Context(), f, version, snapshot)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "service version deployed (default: the release)")
	cmd.Flags().StringVar(&snapshot, "snapshot", "auto", "pre-deploy snapshot: auto or none")
	return cmd
}

func (a *app) deployFinishCmd(f *deployFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "finish --service NAME [--release R]",
		Short: "After the rollout: contract (drain check) and record success",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.deployFinish(cmd.Context(), f)
		},
	}
}

type rollbackFlags struct {
	reason   string
	restore  bool
	discard  bool
	all      bool
	parallel int
}

func (a *app) deployRollbackCmd(f *deployFlags) *cobra.Command {
	rf := &rollbackFlags{}
	cmd := &cobra.Command{
		Use:   "rollback --service NAME --reason TEXT",
		Short: "Undo a release's schema changes, then reconcile (exit 4 on breaks)",
		Long: `Roll back the in-flight expand/contract migrations and the versioned
migrations to the version recorded before the deploy (or, with --restore,
restore the pre-deploy snapshot's tables), then run the reconcile rules and
record the rollback with its findings. Exit 4 when the data is inconsistent.

With --fleet: --service a,b (several), --all, or --release R (every service
whose deployment of R is recorded); dependants are rolled back before the
services they depend on, --parallel at a time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.deployRollback(cmd.Context(), f, rf)
		},
	}
	cmd.Flags().StringVar(&rf.reason, "reason", "", "why (recorded with the rollback; required)")
	cmd.Flags().BoolVar(&rf.restore, "restore", false, "restore the pre-deploy snapshot's tables instead of undoing migrations")
	cmd.Flags().BoolVar(&rf.discard, "discard-newer", false, "with --restore: overwrite rows changed after the snapshot")
	cmd.Flags().BoolVar(&rf.all, "all", false, "with --fleet: every service")
	cmd.Flags().IntVar(&rf.parallel, "parallel", 4, "with --fleet: services rolled back at once")
	return cmd
}

func (a *app) deployStatusCmd(f *deployFlags) *cobra.Command {
	var parallel int
	cmd := &cobra.Command{
		Use:   "status [--service NAME | --fleet FILE]",
		Short: "Each service's version, in-flight migrations, last snapshot, last reconcile",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.deployStatus(cmd.Context(), f, parallel)
		},
	}
	cmd.Flags().IntVar(&parallel, "parallel", 16, "services read at once")
	return cmd
}
