package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/records"
	"github.com/tidemark/tidemark/migrator"
	"github.com/tidemark/tidemark/pitr"
)

// dbStatus is everything tidemark knows about one database.
type dbStatus struct {
	Database      string                   `json:"database"` // redacted
	Engine        string                   `json:"engine"`
	Migrations    *migrator.Status         `json:"migrations,omitempty"`
	ExpandC       any                      `json:"expand_contract,omitempty"`
	Snapshots     []*pitr.Manifest         `json:"snapshots,omitempty"`
	LastReconcile *deploy.ReconcileInfo    `json:"last_reconcile,omitempty"`
	Services      []records.ServiceVersion `json:"services,omitempty"`
	Deployments   []records.Deployment     `json:"recent_deployments,omitempty"`
	Errors        map[string]string        `json:"errors,omitempty"`
}

func (a *app) statusCmd() *cobra.Command {
	var source, stateURL string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Everything about one database at a glance",
		Long: `Migrations (with --source, or ./migrations when it exists), expand/contract
versions and backfill progress, the last snapshots, the last reconcile run,
and the services' recent deployments (from --state-url, default the database).
A part that cannot be read is reported with its error; the rest still is.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.status(cmd.Context(), source, stateURL)
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "migration directory to compare with (default ./migrations when present)")
	cmd.Flags().StringVar(&stateURL, "state-url", "", "control database with the deployment records (default: --database)")
	return cmd
}

func (a *app) status(ctx context.Context, source, stateURL string) error {
	u, err := a.dbURL()
	if err != nil {
		return err
	}
	st := &dbStatus{Database: u.String(), Engine: string(u.Engine), Errors: map[string]string{}}
	fail := func(part string, err error) {
		if err != nil {
			st.Errors[part] = dburl.Redact(err.Error())
		}
	}
	if source == "" {
		if fi, err := os.Stat("migrations"); err == nil && fi.IsDir() {
			source = "migrations"
		}
	}
	if source != "" {
		fail("migrations", a.statusMigrations(ctx, u, source, st))
	}
	fail("expand_contract", a.statusExpand(ctx, u, st))
	fail("snapshots", a.statusSnapshots(ctx, u, st))
	last, err := deploy.Reconcile{}.LastRun(ctx, u)
	st.LastReconcile = last
	fail("reconcile", err)
	fail("deployments", a.statusDeployments(ctx, u, stateURL, st))
	return a.render(st, func(w io.Writer) { renderDBStatus(w, st) })
}

func (a *app) statusMigrations(ctx context.Context, u *dburl.URL, source string, st *dbStatus) error {
	m, err := migrator.Open(ctx, u, migrator.Options{Source: source, Logger: a.log})
	if err != nil {
		return err
	}
	defer m.Close(context.WithoutCancel(ctx))
	st.Migrations, err = m.Status(ctx)
	return err
}

func (a *app) statusExpand(ctx context.Context, u *dburl.URL, st *dbStatus) error {
	var err error
	if u.Engine == dburl.Mongo {
		var info deploy.ExpandInfo
		info, err = deploy.ExpandContract{}.ExpandStatus(ctx, u)
		st.ExpandC = info
		return err
	}
	st.ExpandC, err = a.ecStatus(ctx, u)
	return err
}

func (a *app) statusSnapshots(ctx context.Context, u *dburl.URL, st *dbStatus) error {
	p, err := pitr.Open(ctx, u, pitr.Options{Logger: a.log})
	if errors.Is(err, pitr.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return err
	}
	defer p.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	ms, err := p.List(ctx)
	if len(ms) > 5 {
		ms = ms[len(ms)-5:]
	}
	st.Snapshots = ms
	return err
}

func (a *app) statusDeployments(ctx context.Context, u *dburl.URL, stateURL string, st *dbStatus) error {
	cu := u
	if stateURL != "" {
		var err error
		if cu, err = dburl.Parse(stateURL, a.dialect); err != nil {
			return err
		}
	}
	if cu.Engine == dburl.Mongo {
		return nil // the records live on a PostgreSQL control database (--state-url)
	}
	conn, err := pgx.Connect(ctx, cu.PGX())
	if err != nil {
		return dburl.RedactError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('tidemark.deploy_deployments') IS NOT NULL").Scan(&exists); err != nil || !exists {
		return err // no deployment recorded here: status does not create tables
	}
	rs, err := records.Open(ctx, conn)
	if err != nil {
		return err
	}
	if st.Services, err = rs.ListServices(ctx); err != nil {
		return err
	}
	for _, sv := range st.Services {
		d, err := rs.LatestDeployment(ctx, sv.Service)
		if err != nil {
			return err
		}
		st.Deployments = append(st.Deployments, d)
	}
	return nil
}

func renderDBStatus(w io.Writer, st *dbStatus) {
	fmt.Fprintf(w, "database %s (%s)\n", st.Database, st.Engine)
	if m := st.Migrations; m != nil {
		fmt.Fprintf(w, "migrations: version %d, %d pending, %d drifted, %d unfinished\n", m.Current, len(m.Pending), len(m.Drift), len(m.Unfinished))
	} else if st.Errors["migrations"] == "" {
		fmt.Fprintln(w, "migrations: (pass --source DIR to compare with the files)")
	}
	if st.ExpandC != nil {
		if info, ok := st.ExpandC.(deploy.ExpandInfo); ok {
			fmt.Fprintf(w, "expand/contract: %d migration(s) in flight %v %s\n", len(info.Migrations), info.Migrations, info.Phase)
		} else {
			ecStatusText(w, st.ExpandC)
		}
	}
	if len(st.Snapshots) == 0 {
		fmt.Fprintln(w, "snapshots: none")
	}
	for _, m := range st.Snapshots {
		fmt.Fprintf(w, "snapshot %s at %s, %d table(s)\n", m.Label, m.CreatedAt.Format(time.RFC3339), len(m.Tables))
	}
	if r := st.LastReconcile; r != nil {
		fmt.Fprintf(w, "last reconcile: %s, %d break(s), %d in flight (%s)\n", r.At.Format(time.RFC3339), r.Breaks, r.InFlight, r.Rules)
	} else {
		fmt.Fprintln(w, "last reconcile: none recorded here")
	}
	for _, d := range st.Deployments {
		fmt.Fprintf(w, "deployment %s %s: %s, started %s, attempts %d\n", d.Service, d.Release, d.Result, d.StartedAt.Format(time.RFC3339), d.Attempts)
	}
	for part, e := range st.Errors {
		fmt.Fprintf(w, "! %s: %s\n", part, e)
	}
}
