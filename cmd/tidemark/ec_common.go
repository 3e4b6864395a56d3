package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// ecFlags are the flags expand, contract and rollback share.
type ecFlags struct {
	schema       string
	lockTimeout  time.Duration
	stepBack     time.Duration
	ddlDeadline  time.Duration
	drainTimeout time.Duration
}

func (f *ecFlags) register(fs *pflag.FlagSet, drain bool) {
	fs.StringVar(&f.schema, "schema", "public", "schema holding the tables")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 500*time.Millisecond, "lock_timeout of every DDL statement")
	fs.DurationVar(&f.stepBack, "step-back-after", 50*time.Millisecond, "cancel and retry a DDL statement that has waited this long for its lock while other sessions queue behind it (0: off, wait up to --lock-timeout)")
	fs.DurationVar(&f.ddlDeadline, "ddl-deadline", 2*time.Minute, "keep retrying a DDL statement that cannot get its lock until this long")
	if drain {
		fs.DurationVar(&f.drainTimeout, "drain-timeout", 0, "wait this long for sessions on the version being dropped to end (0: refuse at once)")
	}
}

func (f *ecFlags) options(a *app) expandcontract.Options {
	stepBack := f.stepBack
	if stepBack == 0 {
		stepBack = -1 // off
	}
	return expandcontract.Options{
		Schema: f.schema, LockTimeout: f.lockTimeout, StepBackAfter: stepBack, DDLDeadline: f.ddlDeadline, DrainTimeout: f.drainTimeout,
		Logger: a.log, OnProgress: a.ecProgress(),
	}
}

// ecProgress routes backfill progress per table to the shared progress
// reporter (a bar on a terminal, log lines otherwise; progress.go).
func (a *app) ecProgress() func(string, backfill.Progress) {
	bars := map[string]func(backfill.Progress){}
	return func(table string, p backfill.Progress) {
		f, ok := bars[table]
		if !ok {
			f = a.backfillProgress("backfill " + table)
			bars[table] = f
		}
		f(p)
	}
}

// ecPool opens a pool on a PostgreSQL URL for expand/contract.
func (a *app) ecPool(ctx context.Context, u *dburl.URL) (*pgxpool.Pool, error) {
	if u.Engine != dburl.Postgres && u.Engine != dburl.Cockroach {
		return nil, errkind.Usagef("expand/contract does not support %s URLs", u.Engine)
	}
	cfg, err := pgxpool.ParseConfig(u.PGX())
	if err != nil {
		return nil, errkind.Usagef("database URL: %v", dburl.RedactError(err))
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "tidemark"
	if cfg.MaxConns < 6 {
		cfg.MaxConns = 6
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", dburl.RedactError(err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", dburl.RedactError(err))
	}
	return pool, nil
}

// ecConnect opens a pool on a PostgreSQL or CockroachDB URL and returns the
// options of the shared flags with that server's dialect (expand, contract
// and rollback); the caller closes the pool.
func (a *app) ecConnect(ctx context.Context, u *dburl.URL, f *ecFlags) (*pgxpool.Pool, expandcontract.Options, error) {
	pool, err := a.ecPool(ctx, u)
	if err != nil {
		return nil, expandcontract.Options{}, err
	}
	opts := f.options(a)
	if opts.Dialect, err = ecDialect(ctx, u, pool); err != nil {
		pool.Close()
		return nil, opts, err
	}
	return pool, opts, nil
}
