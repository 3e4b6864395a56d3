package main

import (
	"context"
	"fmt"
	"io"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/internal/dburl"
)

// ecStatus is expand/contract's part of `tidemark status` for a PostgreSQL
// database: a *expandcontract.StatusReport (active versions, each
// migration's phase, backfill progress). The lead renders it in status.go;
// ecStatusText gives its human form.
func (a *app) ecStatus(ctx context.Context, u *dburl.URL) (any, error) {
	pool, err := a.ecPool(ctx, u)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return expandcontract.Status(ctx, pool)
}

// ecStatusText writes the human form of an ecStatus report.
func ecStatusText(w io.Writer, v any) {
	rep, ok := v.(*expandcontract.StatusReport)
	if !ok {
		return
	}
	if len(rep.Versions) == 0 {
		fmt.Fprintln(w, "expand/contract: no versions")
		return
	}
	for _, vs := range rep.Versions {
		state := "finished"
		if vs.Active {
			state = "ACTIVE"
		}
		fmt.Fprintf(w, "expand/contract: %s version %s (old %s): %s\n", state, vs.VersionSchema, vs.OldSchema, vs.Phase)
		for _, m := range vs.Migrations {
			fmt.Fprintf(w, "  migration %s: %s\n", m.Name, m.Phase)
		}
		for _, b := range vs.Backfills {
			done := "in progress"
			if b.Done {
				done = "done"
			}
			fmt.Fprintf(w, "  backfill %s: %d rows, %s\n", b.Table, b.Rows, done)
		}
	}
}
