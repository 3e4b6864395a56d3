package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/expandcontract"
	"github.com/tidemark/tidemark/internal/dburl"
)

type expandFlags struct {
	ecFlags
	plan        bool
	verify      bool
	batchTarget time.Duration
	maxRate     float64
	maxLag      time.Duration
}

func (a *app) expandCmd() *cobra.Command {
	f := &expandFlags{}
	cmd := &cobra.Command{
		Use:   "expand FILE...",
		Short: "start expand/contract migrations (pgroll format): old and new schema versions both live",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			return a.runExpand(cmd, f, files)
		},
	}
	fs := cmd.Flags()
	f.register(fs, false)
	fs.BoolVar(&f.plan, "plan", false, "print every statement, its lock and whether it scans or rewrites; change nothing")
	fs.BoolVar(&f.verify, "verify", false, "after the backfill, check new = up(old) on every row (exit 4 on mismatches)")
	fs.DurationVar(&f.batchTarget, "batch-target", 100*time.Millisecond, "backfill batch duration target")
	fs.Float64Var(&f.maxRate, "max-rate", 0, "backfill rows per second at most (0: unlimited)")
	fs.DurationVar(&f.maxLag, "max-replication-lag", 0, "pause the backfill while a standby lags more than this (0: ignore)")
	return cmd
}

func (a *app) runExpand(cmd *cobra.Command, f *expandFlags, files []string) error {
	ctx := cmd.Context()
	u, err := a.dbURL()
	if err != nil {
		return err
	}
	if u.Engine == dburl.Mongo {
		return a.mongoExpand(ctx, u, files, f.plan)
	}
	var migs []*expandcontract.Migration
	for _, file := range files {
		m, err := expandcontract.ReadFile(file)
		if err != nil {
			return err
		}
		migs = append(migs, m)
	}
	pool, opts, err := a.ecConnect(ctx, u, &f.ecFlags)
	if err != nil {
		return err
	}
	defer pool.Close()
	opts.Verify, opts.TargetBatch, opts.MaxRate, opts.MaxReplicationLag = f.verify, f.batchTarget, f.maxRate, f.maxLag
	if f.plan {
		plan, err := expandcontract.PlanExpand(ctx, pool, migs, opts)
		if err != nil {
			return err
		}
		return a.render(plan, func(w io.Writer) { writePlan(w, plan) })
	}
	res, err := expandcontract.Expand(ctx, pool, migs, opts)
	if res != nil && err == nil {
		return a.render(res, func(w io.Writer) {
			fmt.Fprintf(w, "expanded %s: version %s is live beside %s (%d actions run, %d already done)\n",
				joinNames(res.Migrations), res.VersionSchema, res.OldSchema, res.Ran, res.Skipped)
			writeVerify(w, res.Verify)
			for _, wr := range res.Warnings {
				fmt.Fprintf(w, "warning: %s\n", wr)
			}
		})
	}
	return err
}

func writePlan(w io.Writer, p *expandcontract.Plan) {
	fmt.Fprintf(w, "version %s (old version: %s)\n", p.VersionSchema, p.OldSchema)
	for _, ph := range []struct {
		name    string
		actions []expandcontract.Action
	}{{"expand", p.Expand}, {"contract", p.Contract}, {"rollback", p.Rollback}} {
		fmt.Fprintf(w, "\n%s:\n", ph.name)
		for _, a := range ph.actions {
			fmt.Fprintf(w, "  [%s] lock: %s; %s\n", a.ID, a.Lock, scanText(a))
			for _, s := range a.SQL {
				fmt.Fprintf(w, "      %s;\n", indent(s))
			}
			if a.Backfill != nil {
				fmt.Fprintf(w, "      backfill %s.%s in batches: SET %s\n", a.Backfill.Schema, a.Backfill.Table, a.Backfill.Set)
			}
			if a.Views != nil {
				for _, s := range expandcontract.ViewsSQL(expandcontract.Postgres{}, a.Views) {
					fmt.Fprintf(w, "      %s;\n", s)
				}
				fmt.Fprintln(w, "      (plus views of any table a raw sql operation creates)")
			}
			if a.Warning != "" {
				fmt.Fprintf(w, "      WARNING: %s\n", a.Warning)
			}
		}
	}
	for _, wr := range p.Warnings {
		fmt.Fprintf(w, "\nwarning: %s", wr)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
	}
}

func scanText(a expandcontract.Action) string {
	switch {
	case a.Rewrites:
		return "REWRITES the table"
	case a.Scans:
		return "scans the table"
	}
	return "no scan, no rewrite"
}

func indent(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "      "...)
		}
	}
	return string(out)
}

func joinNames(n []string) string {
	s := ""
	for i, x := range n {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}

func writeVerify(w io.Writer, v *expandcontract.VerifyReport) {
	if v == nil {
		return
	}
	fmt.Fprintf(w, "verify: %d check(s) over %d row(s), %d mismatch(es)\n", v.Checks, v.Rows, v.Mismatches)
}
