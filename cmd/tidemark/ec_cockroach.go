package main

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/internal/dburl"
)

// ecDialect is the expand/contract dialect for u. On CockroachDB
// (cockroachdb:// URLs or --dialect cockroach) it asks the server its
// version, which decides between sync triggers (v24.3+) and the dual-write
// contract, and gives the dialect the URL for the lease-row run lock. A
// --dialect cockroach pointed at another server is a usage error (exit 2).
// Set Options.Dialect to it in expand (--plan included), contract and rollback.
func ecDialect(ctx context.Context, u *dburl.URL, pool *pgxpool.Pool) (expandcontract.Dialect, error) {
	if u.Engine != dburl.Cockroach {
		return expandcontract.Postgres{}, nil
	}
	d, err := expandcontract.DetectCockroach(ctx, pool)
	if err != nil {
		return nil, err
	}
	d.URL = u
	return d, nil
}
