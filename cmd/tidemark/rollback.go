package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/expandcontract"
)

func (a *app) rollbackCmd() *cobra.Command {
	f := &ecFlags{}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "undo the expand/contract migrations in progress (the old version is left as it was)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.ecFinishPhase(cmd.Context(), f, "rolled back", a.mongoRollback, expandcontract.Rollback)
		},
	}
	f.register(cmd.Flags(), true)
	return cmd
}
