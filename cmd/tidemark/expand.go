package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// expandCmd is a placeholder until its issue lands.
func (a *app) expandCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "expand",
		Short: "expand (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("expand is not implemented yet")
		},
	}
}
