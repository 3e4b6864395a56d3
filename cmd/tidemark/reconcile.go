package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// reconcileCmd is a placeholder until its issue lands.
func (a *app) reconcileCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reconcile",
		Short: "reconcile (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("reconcile is not implemented yet")
		},
	}
}
