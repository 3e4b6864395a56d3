package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// migrateCmd is a placeholder until its issue lands.
func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "migrate (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("migrate is not implemented yet")
		},
	}
}
