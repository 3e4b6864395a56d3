package main

import (
	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
)

// snapshotCmd is a placeholder until its issue lands.
func (a *app) snapshotCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "snapshot",
		Short: "snapshot (not implemented yet)",
		RunE: func(*cobra.Command, []string) error {
			return errkind.Usagef("snapshot is not implemented yet")
		},
	}
}
