package expandcontract

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The dual-write contract, for CockroachDB servers without triggers (before
// v24.3). Nothing in the database keeps the two versions' columns in sync,
// so the applications do, and tidemark checks before it drops anything:
//
//   - the new service version writes both shapes: its own columns, and for
//     each changed column the old column with its down value, exposed in the
//     new version's views as _tm_old_<column>;
//   - the old service version keeps writing only the old columns;
//   - expand backfills the new columns of the existing rows (up);
//   - contract, once no client of the old version is left (drain check),
//     first runs a catch-up backfill (up again: for changed columns on every
//     row, for added columns on rows the new version left NULL), then checks
//     new = up(old) on every row, and only then adds the new columns'
//     constraints, validates them and swaps the columns in.
//
// Every step shows in the plan: dual-write/<table> actions carry the
// contract as a warning, catchup/<table> and verify/<table> run at contract.

// oldColumnAlias is the name under which the new version's views expose an
// old column the new version must write (dual-write contract).
func oldColumnAlias(col string) string { return ident63("_tm_old_" + col) }

func (d Cockroach) dualWrite(p *Planner, types colTypes) {
	pl := p.plan
	moved := map[string]bool{}
	for _, a := range p.afterSync {
		moved[a.ID] = true
	}
	var expand, late []Action
	for _, a := range pl.Expand {
		switch {
		case isSyncAction(a):
			t := strings.TrimPrefix(a.ID, "sync/")
			expand = append(expand, Action{ID: "dual-write/" + t, Lock: "none", Warning: p.dualWriteNote(t)})
		case moved[a.ID]:
			late = append(late, a)
		case a.Views != nil:
			p.exposeOldColumns(a.Views)
			expand = append(expand, a)
		default:
			expand = append(expand, a)
		}
	}
	pl.Expand = expand
	first := append(p.catchUp(types), late...)
	pl.Contract = append(first, pl.Contract...)
	pl.Verify = nil // checked by the contract's verify actions, after the catch-up
	pl.Warnings = append(pl.Warnings, fmt.Sprintf("CockroachDB %s has no triggers (v24.3+): dual-write contract: "+
		"the new service version must write both shapes (see dual-write/* actions); contract re-runs the backfill and verifies before it drops anything",
		d.Version))
}

// dualWriteNote tells the applications what they must write for table t.
func (p *Planner) dualWriteNote(t string) string {
	var must, stale []string
	for _, r := range p.sync[t] {
		if r.FromNew {
			must = append(must, fmt.Sprintf("%s = (%s)", oldColumnAlias(r.Target), r.Expr))
		} else {
			stale = append(stale, r.Target)
		}
	}
	note := "dual-write contract on " + t + " (no triggers): "
	if len(must) > 0 {
		note += "the new service version must also write " + strings.Join(must, ", ") + " on every INSERT and UPDATE; "
	}
	if len(stale) > 0 {
		note += "old-version writes leave " + strings.Join(stale, ", ") + " unset: contract recomputes them (catchup/" + t + ") and verifies"
	}
	return strings.TrimSuffix(note, "; ")
}

// exposeOldColumns adds, to the new version's views, the old columns the
// new version writes under the dual-write contract.
func (p *Planner) exposeOldColumns(spec *ViewsSpec) {
	for i := range spec.Tables {
		vt := &spec.Tables[i]
		for _, r := range p.sync[vt.Physical] {
			if r.FromNew {
				vt.Columns = append(vt.Columns, [2]string{oldColumnAlias(r.Target), r.Target})
			}
		}
	}
}

// catchUp: the contract's backfill and verification of every synced table.
func (p *Planner) catchUp(types colTypes) []Action {
	var out []Action
	for _, t := range p.syncT {
		var set, checks []string
		for _, r := range p.sync[t] {
			if r.FromNew {
				continue
			}
			col := p.D.Quote(r.Target)
			if p.verified(t, r.Target) {
				set = append(set, col+" = ("+r.Expr+")")
				checks = append(checks, p.verifySQL(t, r, types))
			} else {
				set = append(set, col+" = COALESCE("+col+", ("+r.Expr+"))")
			}
		}
		if len(set) == 0 {
			continue
		}
		id := "catchup/" + t
		out = append(out, Action{ID: id, Lock: backfillLock, Scans: true,
			Backfill: &BackfillJob{ID: p.plan.VersionSchema + "/" + id, Schema: p.Schema, Table: t, Set: strings.Join(set, ", ")}})
		if len(checks) > 0 {
			out = append(out, Action{ID: "verify/" + t, Lock: "none (reads)", Scans: true, SQL: checks})
		}
	}
	return out
}

func (p *Planner) verified(table, col string) bool {
	return slices.ContainsFunc(p.plan.Verify, func(c VerifyCheck) bool { return c.Table == table && c.Column == col })
}

// verifySQL counts the rows where the new column differs from up(old).
func (p *Planner) verifySQL(t string, r syncRule, types colTypes) string {
	exp := "(" + r.Expr + ")"
	if typ := types[t][r.Target]; typ != "" {
		exp = "CAST(" + exp + " AS " + typ + ")"
	}
	return "SELECT count(*) AS mismatches FROM " + p.D.Table(p.Schema, t) + " WHERE " + p.D.Quote(r.Target) + " IS DISTINCT FROM " + exp
}

// colTypes: physical table -> physical column -> SQL type.
type colTypes map[string]map[string]string

var addColumnRE = regexp.MustCompile(`^ALTER TABLE "(?:[^"]|"")*"\.("(?:[^"]|"")*") ADD COLUMN IF NOT EXISTS ("(?:[^"]|"")*") (.+?)(?: DEFAULT .*)?$`)

// columnTypes collects the types of the snapshot's columns and of the
// columns the plan adds.
func (p *Planner) columnTypes() colTypes {
	out := colTypes{}
	put := func(t, c, typ string) {
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	for name, t := range p.snap.Tables {
		for _, c := range t.Columns {
			put(name, c.Name, c.Type)
		}
	}
	for _, a := range p.plan.Expand {
		for _, s := range a.SQL {
			if m := addColumnRE.FindStringSubmatch(s); m != nil {
				put(stripQuotes(m[1]), stripQuotes(m[2]), m[3])
			}
		}
	}
	return out
}

var typeRefRE = regexp.MustCompile(`"(?:[^"]|"")*"\.("(?:[^"]|"")*")\.("(?:[^"]|"")*")%TYPE`)

// fixTypes replaces schema.table.column%TYPE (not supported by CockroachDB's
// PL/pgSQL) with the column's type.
func (ct colTypes) fixTypes(fn string) (string, error) {
	var err error
	out := typeRefRE.ReplaceAllStringFunc(fn, func(ref string) string {
		m := typeRefRE.FindStringSubmatch(ref)
		t, c := stripQuotes(m[1]), stripQuotes(m[2])
		if typ := ct[t][c]; typ != "" {
			return typ
		}
		err = fmt.Errorf("type of %s.%s unknown", t, c)
		return ref
	})
	return out, err
}
