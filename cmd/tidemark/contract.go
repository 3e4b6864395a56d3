package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

func (a *app) contractCmd() *cobra.Command {
	f := &ecFlags{}
	skipVerify := false
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "finish the expand/contract migrations in progress (after the drain check and verify)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.ecFinishPhase(cmd.Context(), f, "contracted", a.mongoContract,
				func(ctx context.Context, pool *pgxpool.Pool, opts expandcontract.Options) (*expandcontract.Result, error) {
					opts.SkipVerify = skipVerify
					return expandcontract.Contract(ctx, pool, opts)
				})
		},
	}
	f.register(cmd.Flags(), true)
	cmd.Flags().BoolVar(&skipVerify, "skip-verify", false, "do not check new = up(old) before dropping the old version")
	return cmd
}

// ecFinishPhase runs contract or rollback: MongoDB URLs go to mongo, the
// others get a pool, their dialect and the shared options, then run.
func (a *app) ecFinishPhase(ctx context.Context, f *ecFlags, verb string,
	mongo func(context.Context, *dburl.URL) error,
	run func(context.Context, *pgxpool.Pool, expandcontract.Options) (*expandcontract.Result, error),
) error {
	u, err := a.dbURL()
	if err != nil {
		return err
	}
	if u.Engine == dburl.Mongo {
		return mongo(ctx, u)
	}
	pool, opts, err := a.ecConnect(ctx, u, f)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := run(ctx, pool, opts)
	return a.ecFinish(res, err, verb)
}

// ecFinish renders the result of contract or rollback. A failed drain check
// also renders its sessions with --output json (a failed verify's count and
// samples are in its error text, which run() prints).
func (a *app) ecFinish(res *expandcontract.Result, err error, verb string) error {
	var de *expandcontract.DrainError
	if errors.As(err, &de) && a.output == "json" {
		// the error document, with the sessions; run() adds no second one
		_ = a.render(map[string]any{"error": err.Error(), "exit_code": errkind.ExitCode(err), "sessions": de.Sessions}, nil)
		return err
	}
	if err != nil {
		return err
	}
	return a.render(res, func(w io.Writer) {
		if res.NothingToDo {
			fmt.Fprintf(w, "nothing to do: no expand/contract migration in progress in schema %s\n", res.Schema)
			return
		}
		fmt.Fprintf(w, "%s %s: version %s (%d actions run, %d already done)\n", verb, joinNames(res.Migrations), res.VersionSchema, res.Ran, res.Skipped)
		writeVerify(w, res.Verify)
	})
}
