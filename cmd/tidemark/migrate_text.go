package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tidemark/tidemark/migrator"
)

func planText(p *migrator.Plan) func(io.Writer) {
	return func(w io.Writer) {
		driftText(w, p.Drift)
		if len(p.Steps) == 0 {
			fmt.Fprintf(w, "nothing to do: version %d is current\n", p.Current)
			return
		}
		fmt.Fprintf(w, "version %d -> %d: %d file(s)\n", p.Current, p.Target, len(p.Steps))
		for _, s := range p.Steps {
			mode := "in a transaction"
			if !s.Transactional {
				mode = "statement by statement, no transaction"
			}
			fmt.Fprintf(w, "\n%s %s (%d statement(s), %s)\n", s.Direction, s.File, len(s.Statements), mode)
			if s.ResumeFrom > 0 {
				fmt.Fprintf(w, "  resumes after statement %d (applied by an earlier run)\n", s.ResumeFrom)
			}
			for i, st := range s.Statements {
				if i < s.ResumeFrom {
					continue
				}
				fmt.Fprintf(w, "  -- line %d\n  %s\n", st.Line, strings.ReplaceAll(st.SQL, "\n", "\n  "))
			}
		}
	}
}

func statusText(st *migrator.Status) func(io.Writer) {
	return func(w io.Writer) {
		fmt.Fprintf(w, "current version: %d\n", st.Current)
		fmt.Fprintf(w, "\napplied (%d):\n", len(st.Applied))
		for _, a := range st.Applied {
			fmt.Fprintf(w, "  %d  %s  applied %s  sha256 %.12s\n", a.Version, a.Name, a.AppliedAt.UTC().Format(time.RFC3339), a.Checksum)
		}
		fmt.Fprintf(w, "\npending (%d):\n", len(st.Pending))
		for _, p := range st.Pending {
			fmt.Fprintf(w, "  %d  %s\n", p.Version, p.File)
		}
		driftText(w, st.Drift)
		if h := st.RunInProgress; h != nil {
			fmt.Fprintf(w, "\nrun in progress: host %s pid %d since %s (%s)\n", h.Host, h.PID, h.Since.UTC().Format(time.RFC3339), h.What)
		}
		for _, u := range st.Unfinished {
			fmt.Fprintf(w, "\nunfinished: %s %s %s (attempt %d, %s): %d of %d statement(s) applied\n", u.Direction, u.File,
				u.Result, u.ID, u.StartedAt.UTC().Format(time.RFC3339), u.StatementsDone, u.StatementsTotal)
			if u.FailedStatement != "" {
				fmt.Fprintf(w, "  failed statement %d at %s:%d: %s\n    %s\n", u.FailedIndex, u.File, u.FailedLine, u.Error,
					strings.ReplaceAll(u.FailedStatement, "\n", "\n    "))
			}
			if u.Result != migrator.ResultRunning {
				fmt.Fprintf(w, "  next: fix %s if needed and run `tidemark migrate %s` again%s\n", u.File, u.Direction, resumeHint(u))
			}
		}
		fmt.Fprintf(w, "\nhistory (%d):\n", len(st.History))
		for _, h := range st.History {
			fmt.Fprintf(w, "  #%d  %s %d %s  %s  %s  %dms  %s@%s  sha256 %.12s\n", h.ID, h.Direction, h.Version, h.Name, h.Result,
				h.StartedAt.UTC().Format(time.RFC3339), h.DurationMS, h.User, h.Host, h.Checksum)
		}
	}
}

func resumeHint(u migrator.Attempt) string {
	if u.Transactional || u.StatementsDone == 0 {
		return " (nothing of it was kept)"
	}
	return fmt.Sprintf(" (it continues at statement %d)", u.StatementsDone+1)
}

func driftText(w io.Writer, drift []migrator.Drift) {
	for _, d := range drift {
		if d.Problem == "missing" {
			fmt.Fprintf(w, "DRIFT: version %d (%s) is applied but its file is missing\n", d.Version, d.Name)
			continue
		}
		fmt.Fprintf(w, "DRIFT: %s was edited after it was applied (sha256 %.12s, now %.12s)\n", d.File, d.Applied, d.Current)
	}
}

func resultText(r *migrator.Result) func(io.Writer) {
	return func(w io.Writer) {
		for _, s := range r.Steps {
			verb := "applied"
			if s.Direction == migrator.DirDown {
				verb = "reverted"
			}
			resumed := ""
			if s.ResumedFrom > 0 {
				resumed = fmt.Sprintf(", resumed after statement %d", s.ResumedFrom)
			}
			fmt.Fprintf(w, "%s %s (%d statement(s), %dms%s)\n", verb, s.File, s.Statements, s.DurationMS, resumed)
		}
		if len(r.Steps) == 0 {
			fmt.Fprintf(w, "nothing to do: version %d is current\n", r.To)
		} else {
			fmt.Fprintf(w, "version %d -> %d\n", r.From, r.To)
		}
		if d := r.Deployment; d != nil {
			fmt.Fprintf(w, "recorded deployment %d: %s %s %s\n", d.ID, d.Service, d.Release, d.Result)
		}
	}
}

func createText(c migrator.Created) func(io.Writer) {
	return func(w io.Writer) { fmt.Fprintf(w, "created %s\ncreated %s\n", c.Up, c.Down) }
}
