package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/spf13/cobra"
)

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the tidemark version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := map[string]string{"version": version, "go": runtime.Version()}
			return a.render(v, func(w io.Writer) { fmt.Fprintf(w, "tidemark %s (%s)\n", version, runtime.Version()) })
		},
	}
}
