package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/pitr"
)

func (a *app) snapshotVerifyCmd(sf *snapshotFlags) *cobra.Command {
	var drill bool
	var verifyCommand, restoreCommand string
	cmd := &cobra.Command{
		Use:   "verify LABEL",
		Short: "Check a snapshot is restorable (exit 4 when not)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := a.openProvider(ctx, sf)
			if err != nil {
				return err
			}
			defer p.Close(ctx)
			r, verr := p.Verify(ctx, args[0], pitr.VerifyOptions{Drill: drill, Command: verifyCommand, RestoreCommand: restoreCommand})
			if r == nil {
				return verr
			}
			if err := a.render(r, func(w io.Writer) { writeReport(w, r) }); err != nil {
				return err
			}
			return verr
		},
	}
	cmd.Flags().BoolVar(&drill, "drill", false, "restore into a scratch place and compare checksums")
	cmd.Flags().StringVar(&verifyCommand, "verify-command", "", "the backup tool's own verify (PostgreSQL), a template with {label}, {backup_id}, {dir}; fails on a non-zero exit or error lines in its output")
	cmd.Flags().StringVar(&restoreCommand, "restore-command", "", restoreCommandUsage+" (default: the one recorded at create); used by --drill")
	return cmd
}

func writeReport(w io.Writer, r *pitr.VerifyReport) {
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, strings.ReplaceAll(c.Detail, "\n", "\n     "))
	}
	if r.OK {
		fmt.Fprintf(w, "snapshot %q is restorable\n", r.Label)
	}
}

type snapshotRestoreFlags struct {
	targetDir    string
	port         int
	tables       []string
	allTables    bool
	discardNewer bool
	restoreCmd   string
}

func (a *app) snapshotRestoreCmd(sf *snapshotFlags) *cobra.Command {
	f := &snapshotRestoreFlags{}
	cmd := &cobra.Command{
		Use:   "restore LABEL (--target-dir DIR [--port P] | --tables T,... | --all-tables)",
		Short: "Restore a snapshot: a whole cluster into a new directory, or tables in place",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := a.openProvider(ctx, sf)
			if err != nil {
				return err
			}
			defer p.Close(ctx)
			res, err := p.Restore(ctx, args[0], pitr.RestoreOptions{TargetDir: f.targetDir, Port: f.port,
				Tables: f.tables, AllTables: f.allTables, DiscardNewer: f.discardNewer, RestoreCommand: f.restoreCmd})
			if err != nil {
				return err
			}
			return a.render(res, func(w io.Writer) { writeRestore(w, res) })
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.targetDir, "target-dir", "", "new data directory for a whole-cluster restore (must not exist or be empty)")
	fl.IntVar(&f.port, "port", 0, "port of the restored server (0: a free port)")
	fl.StringSliceVar(&f.tables, "tables", nil, "restore these snapshot tables into the live database")
	fl.StringSliceVar(&f.tables, "collections", nil, "restore these snapshot collections (MongoDB)")
	fl.BoolVar(&f.allTables, "all-tables", false, "restore every table/collection the snapshot covers")
	fl.BoolVar(&f.discardNewer, "discard-newer", false, "overwrite rows changed after the snapshot")
	fl.StringVar(&f.restoreCmd, "restore-command", "", restoreCommandUsage+" (default: the one recorded at create)")
	return cmd
}

func writeRestore(w io.Writer, r *pitr.RestoreResult) {
	if r.Mode == "cluster" {
		fmt.Fprintf(w, "port=%d\n", r.Port)
		fmt.Fprintf(w, "restored %q into %s in %.1fs (copy %.1fs, WAL replay %.1fs)\n", r.Label, r.TargetDir,
			r.Timings["copy"]+r.Timings["wal_replay"], r.Timings["copy"], r.Timings["wal_replay"])
		if r.Command != nil {
			fmt.Fprintf(w, "  filled by: %s (exit %d, %.1fs)\n", r.Command.Command, r.Command.ExitCode, r.Command.Seconds)
		}
		for _, s := range r.SwitchOver {
			fmt.Fprintf(w, "  - %s\n", s)
		}
		return
	}
	for _, t := range r.Tables {
		fmt.Fprintf(w, "restored %s from %s: rows=%d checksum=%s\n", t.Name, t.Copy, t.Rows, t.Checksum)
	}
	fmt.Fprintf(w, "restored %d tables from %q\n", len(r.Tables), r.Label)
}
