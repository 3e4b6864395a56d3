package main

import (
	"context"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/migrator"
)

// migrateFlags are the flags of `tidemark migrate ...`.
type migrateFlags struct {
	source           string
	lockTimeout      time.Duration
	lockTimeoutDDL   time.Duration
	statementTimeout time.Duration
	allowDrift       bool
	service          string
	release          string
	stateURL         string
	ext              string
}

func (a *app) migrateCmd() *cobra.Command {
	f := &migrateFlags{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Versioned migrations (golang-migrate files): plan, status, up, down, goto, create",
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.source, "source", "migrations", "directory of migration files (NNN_name.up.sql / .down.sql; .json for MongoDB)")
	pf.DurationVar(&f.lockTimeout, "lock-timeout", time.Minute, "how long to wait for another migrate run on the same database, then exit 75")
	pf.DurationVar(&f.lockTimeoutDDL, "lock-timeout-ddl", 0, "lock_timeout for each migration's session (e.g. 5s; 0: server default)")
	pf.DurationVar(&f.statementTimeout, "statement-timeout", 0, "statement_timeout for each migration's session (0: server default)")
	pf.BoolVar(&f.allowDrift, "allow-drift", false, "go past applied files edited since they were applied")
	cmd.AddCommand(a.migratePlanCmd(f), a.migrateStatusCmd(f), a.migrateUpCmd(f), a.migrateDownCmd(f),
		a.migrateGotoCmd(f), a.migrateCreateCmd(f))
	return cmd
}

// recordFlags adds the deployment record flags to a run command.
func (f *migrateFlags) recordFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.service, "service", "", "record this run as a deployment of SERVICE (with --release)")
	cmd.Flags().StringVar(&f.release, "release", "", "the release being deployed, e.g. v42 (with --service)")
	cmd.Flags().StringVar(&f.stateURL, "state-url", "", "control database for deployment records (default: --database; required for MongoDB)")
}

// openMigrator connects to --database with the migrate flags.
func (a *app) openMigrator(ctx context.Context, f *migrateFlags) (*migrator.Migrator, error) {
	u, err := a.dbURL()
	if err != nil {
		return nil, err
	}
	opts := migrator.Options{Source: f.source, LockTimeout: f.lockTimeout, LockTimeoutDDL: f.lockTimeoutDDL,
		StatementTimeout: f.statementTimeout, AllowDrift: f.allowDrift, Logger: a.log}
	if f.service != "" || f.release != "" {
		opts.Deployment = &migrator.Deployment{Service: f.service, Release: f.release}
		if f.stateURL != "" {
			if opts.Deployment.StateURL, err = dburl.Parse(f.stateURL, ""); err != nil {
				return nil, err
			}
		}
	}
	return migrator.Open(ctx, u, opts)
}

// withMigrator opens a Migrator, runs fn and closes it.
func (a *app) withMigrator(cmd *cobra.Command, f *migrateFlags, fn func(context.Context, *migrator.Migrator) error) error {
	ctx := cmd.Context()
	m, err := a.openMigrator(ctx, f)
	if err != nil {
		return err
	}
	defer m.Close(context.WithoutCancel(ctx))
	return fn(ctx, m)
}

// optionalCount parses the optional N of `up [N]` / `down [N]`.
func optionalCount(args []string) (int, error) {
	if len(args) == 0 {
		return 0, nil
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 {
		return 0, errkind.Usagef("%q is not a positive number of migrations", args[0])
	}
	return n, nil
}

func (a *app) migratePlanCmd(f *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "plan [N]",
		Short: "Show what `up [N]` would run, in order, with the statements",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			return a.withMigrator(cmd, f, func(ctx context.Context, m *migrator.Migrator) error {
				p, err := m.Plan(ctx, n)
				if err != nil {
					return err
				}
				return a.render(p, planText(p))
			})
		},
	}
}

func (a *app) migrateStatusCmd(f *migrateFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the current version, pending files, drift, unfinished runs and the history",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withMigrator(cmd, f, func(ctx context.Context, m *migrator.Migrator) error {
				st, err := m.Status(ctx)
				if err != nil {
					return err
				}
				return a.render(st, statusText(st))
			})
		},
	}
}

func (a *app) migrateUpCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "up [N]",
		Short: "Apply all pending migrations, or the next N",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			return a.runMigrate(cmd, f, func(ctx context.Context, m *migrator.Migrator) (*migrator.Result, error) { return m.Up(ctx, n) })
		},
	}
	f.recordFlags(cmd)
	return cmd
}

func (a *app) migrateDownCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "down [N]",
		Short: "Revert the newest applied migration, or the newest N",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := optionalCount(args)
			if err != nil {
				return err
			}
			return a.runMigrate(cmd, f, func(ctx context.Context, m *migrator.Migrator) (*migrator.Result, error) { return m.Down(ctx, n) })
		},
	}
	f.recordFlags(cmd)
	return cmd
}

func (a *app) migrateGotoCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "goto V",
		Short: "Migrate up or down to version V (0 reverts everything)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return errkind.Usagef("goto: %q is not a version number", args[0])
			}
			return a.runMigrate(cmd, f, func(ctx context.Context, m *migrator.Migrator) (*migrator.Result, error) { return m.Goto(ctx, v) })
		},
	}
	f.recordFlags(cmd)
	return cmd
}

// runMigrate runs up, down or goto and renders the result.
func (a *app) runMigrate(cmd *cobra.Command, f *migrateFlags, run func(context.Context, *migrator.Migrator) (*migrator.Result, error)) error {
	return a.withMigrator(cmd, f, func(ctx context.Context, m *migrator.Migrator) error {
		res, err := run(ctx, m)
		if err != nil {
			return err
		}
		return a.render(res, resultText(res))
	})
}

func (a *app) migrateCreateCmd(f *migrateFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create the next NNN_NAME.up and .down files in --source",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			ext := f.ext
			if ext == "" {
				ext = "sql"
				if u, err := dburl.Parse(a.database, a.dialect); err == nil && u.Engine == dburl.Mongo {
					ext = "json"
				}
			}
			c, err := migrator.Create(f.source, args[0], ext)
			if err != nil {
				return err
			}
			return a.render(c, createText(c))
		},
	}
	cmd.Flags().StringVar(&f.ext, "ext", "", "file type: sql, or json for MongoDB (default: from --database, else sql)")
	return cmd
}
