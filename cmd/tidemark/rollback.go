package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// rollbackCmd is a placeholder until its issue lands.
func (a *app) rollbackCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "rollback",
		Short: "rollback (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("rollback is not implemented yet")
		},
	}
}
