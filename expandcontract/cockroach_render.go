package expandcontract

import (
	"fmt"
	"io"
	"strings"
)

// WritePlanSQL writes every statement of a plan, phase by phase, one action
// after the other with its ID, lock and notes: the text of `--plan` and of
// the CockroachDB golden files. Views actions show the statements of the
// planned shape (at run time, tables and columns added by raw sql are added).
func WritePlanSQL(w io.Writer, d Dialect, p *Plan) {
	for _, w2 := range p.Warnings {
		fmt.Fprintf(w, "-- WARNING: %s\n", w2)
	}
	for _, ph := range []struct {
		name    string
		actions []Action
	}{{"expand", p.Expand}, {"contract", p.Contract}, {"rollback", p.Rollback}} {
		fmt.Fprintf(w, "\n-- == %s ==\n", ph.name)
		for _, a := range ph.actions {
			writeAction(w, d, a)
		}
	}
	if len(p.Verify) > 0 {
		fmt.Fprintf(w, "\n-- == verify (new = up(old)) ==\n")
		for _, v := range p.Verify {
			fmt.Fprintf(w, "-- %s.%s = %s\n", v.Table, v.Column, v.Up)
		}
	}
}

func writeAction(w io.Writer, d Dialect, a Action) {
	var notes []string
	if a.Lock != "" {
		notes = append(notes, "lock: "+a.Lock)
	}
	for _, f := range []struct {
		on   bool
		what string
	}{{a.NoTx, "no transaction"}, {a.Scans, "scans"}, {a.Rewrites, "rewrites"}} {
		if f.on {
			notes = append(notes, f.what)
		}
	}
	fmt.Fprintf(w, "-- [%s] %s\n", a.ID, strings.Join(notes, "; "))
	if a.Warning != "" {
		fmt.Fprintf(w, "--   NOTE: %s\n", a.Warning)
	}
	stmts := a.SQL
	if a.Views != nil {
		stmts = ViewsSQL(d, a.Views)
	}
	if b := a.Backfill; b != nil {
		fmt.Fprintf(w, "--   backfill %s in batches: SET %s\n", b.ID, b.Set)
	}
	for _, s := range stmts {
		fmt.Fprintf(w, "%s;\n", s)
	}
}
