package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// deployCmd is a placeholder until its issue lands.
func (a *app) deployCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "deploy",
		Short: "deploy (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("deploy is not implemented yet")
		},
	}
}
