package main

import (
	"context"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// MongoDB document-shape expand/contract (issue 7). expand.go, contract.go
// and rollback.go call these when --database is a mongodb:// URL.

func (a *app) mongoExpand(ctx context.Context, u *dburl.URL, files []string, planOnly bool) error {
	return errkind.Usagef("expand/contract for MongoDB is not implemented yet")
}

func (a *app) mongoContract(ctx context.Context, u *dburl.URL) error {
	return errkind.Usagef("expand/contract for MongoDB is not implemented yet")
}

func (a *app) mongoRollback(ctx context.Context, u *dburl.URL) error {
	return errkind.Usagef("expand/contract for MongoDB is not implemented yet")
}
