package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// contractCmd is a placeholder until its issue lands.
func (a *app) contractCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "contract",
		Short: "contract (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("contract is not implemented yet")
		},
	}
}
