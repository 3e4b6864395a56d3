package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// statusCmd is a placeholder until its issue lands.
func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "status (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("status is not implemented yet")
		},
	}
}
