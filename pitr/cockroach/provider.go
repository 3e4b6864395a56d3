// Package cockroach is the CockroachDB snapshot provider. The snapshot point
// is the cluster's HLC timestamp (cluster_logical_timestamp()). It stays
// restorable while the database's gc.ttlseconds keeps the MVCC history
// (the manifest says until when), or for good with a revision-history
// BACKUP ... AS OF SYSTEM TIME the marker, started detached (its job id is
// recorded). Verify runs SHOW BACKUP ... WITH check_files and re-reads the
// covered tables' checksums AS OF SYSTEM TIME the marker; Restore runs
// RESTORE ... AS OF SYSTEM TIME ... WITH new_db_name and swaps the names.
//
// Every statement comes from the builder in statements.go (golden-tested).
package cockroach

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

func init() { pitr.Register(dburl.Cockroach, Open) }

// Provider is the CockroachDB provider.
type Provider struct {
	u    *dburl.URL
	pool *pgxpool.Pool
	log  *slog.Logger
}

var _ pitr.Provider = (*Provider)(nil)

// Open connects and prepares the state tables.
func Open(ctx context.Context, u *dburl.URL, o pitr.Options) (pitr.Provider, error) {
	pool, err := pgxpool.New(ctx, u.PGX())
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
	return &Provider{u: u, pool: pool, log: o.Logger}, nil
}

// Close closes the pool.
func (p *Provider) Close(context.Context) error {
	p.pool.Close()
	return nil
}

// Get returns the manifest recorded for label.
func (p *Provider) Get(ctx context.Context, label string) (*pitr.Manifest, error) {
	return sqlstore.Get(ctx, p.pool, label)
}

// List returns every recorded manifest, oldest first.
func (p *Provider) List(ctx context.Context) ([]*pitr.Manifest, error) {
	return sqlstore.List(ctx, p.pool)
}
