package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/reconcile"
)

// Reconcile is the Reconciler backed by package reconcile.
type Reconcile struct {
	Options reconcile.CheckOptions
	// HTMLReport, if set, is a file the check's HTML report is written to.
	HTMLReport string
}

var _ Reconciler = Reconcile{}

// Check parses the rules file (with ${VAR}s from the environment) and runs it.
func (r Reconcile) Check(ctx context.Context, rulesFile string) (ReconcileInfo, error) {
	f, err := os.Open(rulesFile)
	if err != nil {
		return ReconcileInfo{}, fmt.Errorf("rules: %w", err)
	}
	defer f.Close()
	rules, err := reconcile.ParseRules(f, rulesFile)
	if err != nil {
		return ReconcileInfo{}, err
	}
	rep, err := reconcile.Check(ctx, rules, r.Options)
	if err != nil {
		return ReconcileInfo{}, err
	}
	if r.HTMLReport != "" {
		if err := writeHTML(r.HTMLReport, rep); err != nil {
			return ReconcileInfo{}, err
		}
	}
	info := ReconcileInfo{At: rep.FinishedAt, Rules: rulesFile, Breaks: len(rep.Breaks), InFlight: len(rep.InFlight),
		ByInvariant: map[string]int{}, Report: rep}
	for _, c := range rep.Counts {
		if c.BreaksTotal > 0 {
			info.ByInvariant[c.Invariant] = c.BreaksTotal
		}
	}
	return info, nil
}

func writeHTML(path string, rep *reconcile.Report) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := rep.WriteHTML(fh); err != nil {
		fh.Close()
		return fmt.Errorf("html report: %w", err)
	}
	return fh.Close()
}

// LastRun reads the newest finished run recorded in target's tidemark
// schema (reconcile keeps its runs in the first PostgreSQL source's
// database), or nil when there is none.
func (r Reconcile) LastRun(ctx context.Context, t *dburl.URL) (*ReconcileInfo, error) {
	if t.Engine == dburl.Mongo {
		return nil, nil
	}
	conn, err := pgx.Connect(ctx, t.PGX())
	if err != nil {
		return nil, dburl.RedactError(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var info ReconcileInfo
	var summary []byte
	err = conn.QueryRow(ctx, `SELECT rules_file, finished_at, summary FROM tidemark.reconcile_runs
		WHERE status = 'finished' ORDER BY finished_at DESC LIMIT 1`).Scan(&info.Rules, &info.At, &summary)
	var pe *pgconn.PgError
	if errors.Is(err, pgx.ErrNoRows) || errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") {
		return nil, nil // no run, or reconcile never ran here
	}
	if err != nil {
		return nil, err
	}
	var s struct {
		Breaks     int                 `json:"breaks"`
		InFlight   int                 `json:"in_flight"`
		Invariants []*reconcile.Counts `json:"invariants"`
	}
	if err := json.Unmarshal(summary, &s); err != nil {
		return nil, fmt.Errorf("reconcile run summary: %w", err)
	}
	info.Breaks, info.InFlight, info.ByInvariant = s.Breaks, s.InFlight, map[string]int{}
	for _, c := range s.Invariants {
		if c.BreaksTotal > 0 {
			info.ByInvariant[c.Invariant] = c.BreaksTotal
		}
	}
	info.Rules = strings.TrimSpace(info.Rules)
	return &info, nil
}
