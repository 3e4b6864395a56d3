package migrator

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/records"
)

// recording is a deployment record in progress.
type recording struct {
	conn  *pgx.Conn
	store *records.Store
	dep   records.Deployment
}

// startRecord starts the deployment record when Options.Deployment is set.
func (m *Migrator) startRecord(ctx context.Context) (*recording, error) {
	d := m.opts.Deployment
	if d == nil {
		return nil, nil
	}
	u := d.StateURL
	if u == nil {
		u = m.url
	}
	conn, err := pgx.Connect(ctx, u.PGX())
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("connect to the state database %s: %w", u, err))
	}
	r := &recording{conn: conn}
	r.store, err = records.Open(ctx, conn)
	if err == nil {
		r.dep, err = r.store.StartDeployment(ctx, records.Start{Service: d.Service, Release: d.Release,
			Details: map[string]any{"database": m.url.String(), "source": m.src.Dir}})
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return r, nil
}

// finish records the run's result and closes the state connection.
func (r *recording) finish(ctx context.Context, res *Result, runErr error) (*records.Deployment, error) {
	ctx = context.WithoutCancel(ctx)
	defer r.conn.Close(ctx)
	details := map[string]any{}
	result := records.Succeeded
	if res != nil {
		details["from_version"], details["to_version"], details["steps"] = res.From, res.To, res.Steps
	}
	if runErr != nil {
		result = records.Failed
		details["error"] = dburl.Redact(runErr.Error())
	}
	d, err := r.store.FinishDeployment(ctx, r.dep.ID, result, details)
	if err != nil {
		return nil, err
	}
	return &d, nil
}
