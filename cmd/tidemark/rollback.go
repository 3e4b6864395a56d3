package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/internal/dburl"
)

func (a *app) rollbackCmd() *cobra.Command {
	f := &ecFlags{}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "undo the expand/contract migrations in progress (the old version is left as it was)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			u, err := a.dbURL()
			if err != nil {
				return err
			}
			if u.Engine == dburl.Mongo {
				return a.mongoRollback(ctx, u)
			}
			pool, err := a.ecPool(ctx, u)
			if err != nil {
				return err
			}
			defer pool.Close()
			opts := f.options(a)
			if opts.Dialect, err = ecDialect(ctx, u, pool); err != nil {
				return err
			}
			res, err := expandcontract.Rollback(ctx, pool, opts)
			return a.ecFinish(res, err, "rolled back")
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}
