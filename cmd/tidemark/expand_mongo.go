package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	ecmongo "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// MongoDB document-shape expand/contract (issue 7). expand.go, contract.go
// and rollback.go call these when --database is a mongodb:// URL.

func (a *app) mongoExpand(ctx context.Context, u *dburl.URL, files []string, planOnly bool) error {
	migs, err := readMongoFiles(files)
	if err != nil {
		return err
	}
	c, db, err := a.mongoConnect(ctx, u)
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	if planOnly {
		p, err := ecmongo.PlanExpand(ctx, c, db, migs)
		if err != nil {
			return dburl.RedactError(err)
		}
		return a.render(p, func(w io.Writer) { renderMongoPlan(w, p) })
	}
	res, err := ecmongo.Expand(ctx, c, db, migs, a.mongoOptions())
	return a.mongoFinish(res, err)
}

func (a *app) mongoContract(ctx context.Context, u *dburl.URL) error {
	c, db, err := a.mongoConnect(ctx, u)
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	res, err := ecmongo.Contract(ctx, c, db, a.mongoOptions())
	return a.mongoFinish(res, err)
}

func (a *app) mongoRollback(ctx context.Context, u *dburl.URL) error {
	c, db, err := a.mongoConnect(ctx, u)
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	res, err := ecmongo.Rollback(ctx, c, db, a.mongoOptions())
	return a.mongoFinish(res, err)
}

// mongoStatus returns the expand/contract state of a MongoDB database
// (phase per migration, backfill progress, validators), for status commands.
func (a *app) mongoStatus(ctx context.Context, u *dburl.URL) (*ecmongo.StatusReport, error) {
	c, db, err := a.mongoConnect(ctx, u)
	if err != nil {
		return nil, err
	}
	defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	st, err := ecmongo.Status(ctx, c, db)
	return st, dburl.RedactError(err)
}

func readMongoFiles(files []string) ([]*ecmongo.Migration, error) {
	var migs []*ecmongo.Migration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, errkind.Usagef("migration file: %v", err)
		}
		m, err := ecmongo.Parse(fh, f)
		fh.Close()
		if err != nil {
			return nil, err
		}
		migs = append(migs, m)
	}
	return migs, nil
}

func (a *app) mongoConnect(ctx context.Context, u *dburl.URL) (*mongo.Client, string, error) {
	db := u.Database()
	if db == "" {
		return nil, "", errkind.Usagef("%s: name the database in the URL path (mongodb://host/DB)", u)
	}
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(u.Raw).SetServerSelectionTimeout(10*time.Second))
	if err != nil {
		return nil, "", errkind.Usagef("connect to %s: %v", u, dburl.RedactError(err))
	}
	return c, db, nil
}

func (a *app) mongoOptions() ecmongo.Options {
	return ecmongo.Options{
		Logger: a.log,
		Hook:   crashHook(os.Getenv("TIDEMARK_TEST_CRASH_AT")),
		OnProgress: func(m string, p ecmongo.Progress) {
			a.log.Debug("backfill", "migration", m, "collection", p.Collection, "pass", p.Pass,
				"scanned", p.PassScanned, "written", p.PassWritten, "total", p.Total)
		},
	}
}

// crashHook kills the process with SIGKILL at the named step (test-only:
// TIDEMARK_TEST_CRASH_AT=expanding:sync-0:before, or a prefix ending in "*").
func crashHook(at string) func(string) {
	if at == "" {
		return nil
	}
	return func(point string) {
		if point == at || strings.HasSuffix(at, "*") && strings.HasPrefix(point, strings.TrimSuffix(at, "*")) {
			fmt.Fprintln(os.Stderr, "tidemark: TIDEMARK_TEST_CRASH_AT", point)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}

func (a *app) mongoFinish(res *ecmongo.Result, err error) error {
	if err != nil {
		return dburl.RedactError(err)
	}
	return a.render(res, func(w io.Writer) {
		if len(res.Migrations) == 0 {
			fmt.Fprintf(w, "%s: nothing to do\n", res.Database)
		}
		for _, m := range res.Migrations {
			state := string(m.Phase)
			if m.Unchanged {
				state += " (already)"
			}
			fmt.Fprintf(w, "%s: %s\n", m.Name, state)
			for _, p := range m.Backfill {
				fmt.Fprintf(w, "  backfill %s %s: %d scanned, %d written, %d passes, converged %v\n",
					p.Collection, p.Action, p.Scanned, p.Written, p.Pass, p.Converged)
			}
			for _, warn := range m.Warnings {
				fmt.Fprintf(w, "  warning: %s\n", warn)
			}
		}
	})
}

func renderMongoPlan(w io.Writer, p *ecmongo.Plan) {
	fmt.Fprintf(w, "database %s: update pipelines %v, collMod validators %v\n", p.Database, p.Capabilities.UpdatePipelines, p.Capabilities.CollMod)
	for _, m := range p.Migrations {
		fmt.Fprintf(w, "migration %s (%s)\n", m.Name, m.File)
		for _, s := range m.Steps {
			fmt.Fprintf(w, "  %-8s %-22s %s", s.Phase, s.ID, s.Description)
			if s.Collection != "" {
				fmt.Fprintf(w, " [%d documents]", s.Documents)
			}
			fmt.Fprintln(w)
		}
	}
}
