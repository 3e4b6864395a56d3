package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/reconcile"
)

func (a *app) reconcileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare data across services' databases, report broken invariants, plan and apply fix-ups",
		Long: `reconcile reads the sources and invariants of a rules file (--rules) and
compares the sources in key order. check reports every break (exit 4 when
anything is broken); plan writes the fix-up plan; apply applies exactly a
reviewed plan (--plan FILE --plan-hash H).`,
	}
	cmd.AddCommand(a.reconcileCheckCmd(), a.reconcilePlanCmd(), a.reconcileApplyCmd())
	return cmd
}

// checkFlags are the flags check and plan share.
type checkFlags struct {
	rules       string
	grace       time.Duration
	workers     int
	ranges      int
	noChecksums bool
	stateURL    string
	noState     bool
}

func (f *checkFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.rules, "rules", "", "rules file (YAML: sources, invariants, fixups)")
	fl.DurationVar(&f.grace, "grace", 30*time.Second, "wait this long before re-checking differences (writes in flight)")
	fl.IntVar(&f.workers, "workers", 4, "key ranges compared at once")
	fl.IntVar(&f.ranges, "ranges", 0, "key ranges per invariant (default 8 per worker)")
	fl.BoolVar(&f.noChecksums, "no-checksums", false, "stream every row instead of comparing range checksums first")
	fl.StringVar(&f.stateURL, "state-url", "", "PostgreSQL database for runs, checkpoints and the ledger (default: the first PostgreSQL source's)")
	fl.BoolVar(&f.noState, "no-state", false, "keep no run or checkpoint (no resume)")
}

func loadRules(path string) (*reconcile.Rules, error) {
	if path == "" {
		return nil, errkind.Usagef("--rules is required")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errkind.Usagef("rules: %v", err)
	}
	defer f.Close()
	return reconcile.ParseRules(f, path)
}

func (a *app) runCheck(ctx context.Context, f *checkFlags) (*reconcile.Rules, *reconcile.Report, error) {
	rules, err := loadRules(f.rules)
	if err != nil {
		return nil, nil, err
	}
	if f.grace < 0 || f.workers < 1 {
		return nil, nil, errkind.Usagef("--grace must be >= 0 and --workers >= 1")
	}
	rep, err := reconcile.Check(ctx, rules, reconcile.CheckOptions{
		Grace: f.grace, Workers: f.workers, Ranges: f.ranges, NoChecksums: f.noChecksums,
		StateURL: f.stateURL, NoState: f.noState, Logger: a.log,
	})
	return rules, rep, err
}

func (a *app) reconcileCheckCmd() *cobra.Command {
	var f checkFlags
	var markdown, html, metrics, push, job string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Report every broken invariant (exit 4 when anything is broken)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, rep, err := a.runCheck(cmd.Context(), &f)
			if err != nil {
				return err
			}
			if err := writeReportFiles(rep, markdown, html, metrics); err != nil {
				return err
			}
			if push != "" {
				if err := rep.PushMetrics(cmd.Context(), push, job); err != nil {
					a.log.Warn("push metrics", "err", err)
				}
			}
			if err := a.render(rep, func(w io.Writer) { rep.WriteText(w) }); err != nil {
				return err
			}
			return rep.Err()
		},
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&markdown, "markdown", "", "also write the report as Markdown to this file")
	fl.StringVar(&html, "html", "", "also write the report as a self-contained HTML page to this file")
	fl.StringVar(&metrics, "metrics-file", "", "write Prometheus metrics (text format) to this file")
	fl.StringVar(&push, "pushgateway", "", "push Prometheus metrics to this Pushgateway URL")
	fl.StringVar(&job, "job", "tidemark_reconcile", "Pushgateway job name")
	return cmd
}

func writeReportFiles(rep *reconcile.Report, markdown, html, metrics string) error {
	for _, out := range []struct {
		path  string
		write func(io.Writer) error
	}{
		{markdown, func(w io.Writer) error { rep.WriteMarkdown(w); return nil }},
		{html, rep.WriteHTML},
		{metrics, func(w io.Writer) error { rep.WriteMetrics(w); return nil }},
	} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, out.write); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return errkind.Usagef("write %s: %v", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (a *app) reconcilePlanCmd() *cobra.Command {
	var f checkFlags
	var out string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Check, then write the fix-up plan (--out FILE) and print its hash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errkind.Usagef("--out is required")
			}
			rules, rep, err := a.runCheck(cmd.Context(), &f)
			if err != nil {
				return err
			}
			plan, err := reconcile.MakePlan(cmd.Context(), rules, rep)
			if err != nil {
				return err
			}
			if err := writeFile(out, func(w io.Writer) error { _, err := plan.WriteTo(w); return err }); err != nil {
				return err
			}
			res := map[string]any{"plan": out, "plan_hash": plan.Hash, "actions": len(plan.Actions),
				"breaks": len(rep.Breaks), "in_flight": len(rep.InFlight), "breaks_without_fixup": len(plan.NoFixup)}
			return a.render(res, func(w io.Writer) {
				fmt.Fprintf(w, "plan %s: %d action(s) for %d break(s) (%d without a fix-up, %d in flight)\n", out, len(plan.Actions), len(rep.Breaks), len(plan.NoFixup), len(rep.InFlight))
				for _, ac := range plan.Actions {
					fmt.Fprintf(w, "  %s %s %s %s on %s\n", ac.Invariant, ac.Kind, ac.Key, ac.Type, ac.On+ac.File)
				}
				fmt.Fprintf(w, "apply with: tidemark reconcile apply --rules %s --plan %s --plan-hash %s\n", f.rules, out, plan.Hash)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "write the plan (JSON) to this file")
	return cmd
}

func (a *app) reconcileApplyCmd() *cobra.Command {
	var rulesPath, planPath, hash, stateURL string
	var maxActions int
	var maxAmount int64
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Apply exactly a reviewed plan: conditional on the observed rows, once, within caps",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules, err := loadRules(rulesPath)
			if err != nil {
				return err
			}
			if planPath == "" {
				return errkind.Usagef("--plan is required")
			}
			pf, err := os.Open(planPath)
			if err != nil {
				return errkind.Usagef("plan: %v", err)
			}
			plan, err := reconcile.ReadPlan(pf, hash)
			pf.Close()
			if err != nil {
				return err
			}
			res, err := reconcile.Apply(cmd.Context(), rules, plan, reconcile.ApplyOptions{
				PlanHash: hash, MaxActions: maxActions, MaxAmount: maxAmount, StateURL: stateURL, Logger: a.log,
			})
			if res != nil {
				if rerr := a.render(res, func(w io.Writer) { writeApplyText(w, res) }); rerr != nil {
					return rerr
				}
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&rulesPath, "rules", "", "rules file the plan was made with")
	fl.StringVar(&planPath, "plan", "", "plan file (from reconcile plan)")
	fl.StringVar(&hash, "plan-hash", "", "the plan's hash as printed by reconcile plan (refused if the file differs)")
	fl.IntVar(&maxActions, "max-actions", 0, "refuse a plan with more actions (0: no cap)")
	fl.Int64Var(&maxAmount, "max-amount", 0, "refuse a plan moving more money, in minor units (0: no cap)")
	fl.StringVar(&stateURL, "state-url", "", "PostgreSQL database of the ledger and audit (default: the first PostgreSQL source's)")
	return cmd
}

func writeApplyText(w io.Writer, res *reconcile.ApplyResult) {
	fmt.Fprintf(w, "plan %s: %d action(s): %d applied, %d already applied, %d stale (rows changed; not applied), %d failed; amount %d (minor units); by %s\n",
		res.PlanHash[:12], res.Actions, res.Applied, res.AlreadyApplied, res.Stale, res.Failed, res.Amount, res.AppliedBy)
	for _, r := range res.Results {
		fmt.Fprintf(w, "  %-15s %s %s %s %s\n", r.Status, r.Invariant, r.Kind, r.Key, r.Detail)
	}
}
