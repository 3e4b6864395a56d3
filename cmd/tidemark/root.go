package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// app holds the global options and the output streams every command shares.
type app struct {
	database string
	dialect  string
	config   string
	output   string
	logLevel string

	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	// rendered is set once a JSON result document was written, so a
	// command that renders its result and then fails (exit 4 with a report)
	// still writes exactly one JSON document.
	rendered bool
}

// run executes the command line and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stderr)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if isCobraUsageError(err) {
		err = errkind.Usagef("%v", err)
	}
	code := errkind.ExitCode(err)
	msg := dburl.Redact(err.Error())
	fmt.Fprintf(stderr, "tidemark: error: %s\n", msg)
	if a.output == "json" && !a.rendered {
		writeJSON(stdout, map[string]any{"error": msg, "exit_code": code})
	}
	return code
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "tidemark",
		Short:         "Make deploys and rollbacks safe for your data",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.database, "database", "", "database URL (or DATABASE_URL): postgres://, cockroachdb://, mongodb://")
	pf.StringVar(&a.dialect, "dialect", "", "SQL dialect of a PostgreSQL-wire URL: postgres or cockroach (default: from the URL scheme)")
	pf.StringVar(&a.config, "config", "", "YAML config file (precedence: defaults < file < TIDEMARK_* env < flags)")
	pf.StringVar(&a.output, "output", "text", "output format: text or json (one JSON document on stdout)")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return errkind.Usagef("%v", err) })
	root.AddCommand(
		a.versionCmd(),
		a.migrateCmd(),
		a.expandCmd(),
		a.contractCmd(),
		a.rollbackCmd(),
		a.snapshotCmd(),
		a.reconcileCmd(),
		a.deployCmd(),
		a.statusCmd(),
	)
	return root
}

// setup applies config file and environment to unset flags, validates the
// global options and builds the logger.
func (a *app) setup(cmd *cobra.Command) error {
	if err := applyConfig(cmd, a.config); err != nil {
		return err
	}
	switch a.output {
	case "text", "json":
	default:
		return errkind.Usagef("--output %q: want text or json", a.output)
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(a.logLevel)); err != nil {
		return errkind.Usagef("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	a.log = slog.New(newLogHandler(a.stderr, lvl))
	return nil
}

// dbURL parses --database (required by the calling command).
func (a *app) dbURL() (*dburl.URL, error) {
	if a.database == "" {
		return nil, errkind.Usagef("--database is required (or set DATABASE_URL)")
	}
	return dburl.Parse(a.database, a.dialect)
}

func isCobraUsageError(err error) bool {
	if errors.Is(err, errkind.ErrUsage) {
		return false
	}
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}
