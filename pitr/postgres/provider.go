// Package postgres is the PostgreSQL snapshot provider: restore points in the
// archived WAL on top of a recorded base backup, optional table snapshots in
// a snapshot schema, verification (with a real restore drill) and restores.
package postgres

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/state"
	"github.com/tidemark/tidemark/pitr"
	"github.com/tidemark/tidemark/pitr/internal/sqlstore"
)

func init() { pitr.Register(dburl.Postgres, Open) }

// Provider is the PostgreSQL provider.
type Provider struct {
	u    *dburl.URL
	pool *pgxpool.Pool
	log  *slog.Logger
	opts pitr.Options
}

var _ pitr.Provider = (*Provider)(nil)

// Open connects to the database and prepares the state tables.
func Open(ctx context.Context, u *dburl.URL, o pitr.Options) (pitr.Provider, error) {
	cfg, err := pgxpool.ParseConfig(u.PGX())
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("parse database url: %w", err))
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("connect: %w", err))
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, dburl.RedactError(fmt.Errorf("connect to %s: %w", u, err))
	}
	if err := state.Ensure(ctx, pool, sqlstore.Component); err != nil {
		pool.Close()
		return nil, err
	}
	return &Provider{u: u, pool: pool, log: o.Logger, opts: o}, nil
}

// Close closes the connection pool.
func (p *Provider) Close(context.Context) error {
	p.pool.Close()
	return nil
}
