package expandcontract

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// finishPlan adapts a finished PostgreSQL-shaped plan to CockroachDB:
//   - each action with DDL is followed by a wait for its schema-change jobs;
//   - index builds carry no CONCURRENTLY (online anyway) and no INVALID check;
//   - UNIQUE USING INDEX (unsupported) becomes a rename of the unique index;
//   - with triggers (v24.3+): the trigger is dropped before its function is
//     replaced (CockroachDB refuses CREATE OR REPLACE of a function in use),
//     and %TYPE declarations (unsupported) get the column's type;
//   - without triggers: the dual-write contract (see [Cockroach]).
func (d Cockroach) finishPlan(p *Planner) error {
	pl := p.plan
	types := p.columnTypes()
	if !d.Triggers() {
		d.dualWrite(p, types)
	}
	p.contractViews()
	var err error
	if pl.Expand, err = d.adaptAll(p, pl.Expand, types); err != nil {
		return err
	}
	if pl.Contract, err = d.adaptAll(p, pl.Contract, types); err != nil {
		return err
	}
	pl.Rollback, err = d.adaptAll(p, pl.Rollback, types)
	return err
}

func (d Cockroach) adaptAll(p *Planner, in []Action, types colTypes) ([]Action, error) {
	out := make([]Action, 0, len(in)*2)
	for _, a := range in {
		as, err := d.adapt(p, a, types)
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

func isSyncAction(a Action) bool {
	return strings.HasPrefix(a.ID, "sync/") && len(a.SQL) == 3 && strings.HasPrefix(a.SQL[0], "CREATE OR REPLACE FUNCTION")
}

// adapt returns the action rewritten for CockroachDB, followed by its job wait.
func (d Cockroach) adapt(p *Planner, a Action, types colTypes) ([]Action, error) {
	if isSyncAction(a) {
		fn, err := types.fixTypes(a.SQL[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.ID, err)
		}
		a.SQL = []string{a.SQL[1], fn, a.SQL[2]}
	}
	had := len(a.SQL) > 0
	var stmts []string
	for _, s := range a.SQL {
		if !d.Triggers() && isTriggerStmt(s) {
			continue
		}
		stmts = append(stmts, d.rewriteStmt(s))
		if w := d.unsupported(s); w != "" {
			p.plan.Warnings = append(p.plan.Warnings, a.ID+": CockroachDB: "+w)
		}
	}
	if had && len(stmts) == 0 {
		return nil, nil // only trigger statements, and there are no triggers
	}
	a.SQL = stmts
	a.Index = "" // no INVALID leftovers: a failed build is rolled back by its job
	if a.Backfill != nil {
		a.Lock = backfillLock
	}
	if a.Views != nil || a.Backfill != nil || !hasDDL(stmts) {
		return []Action{a}, nil
	}
	a.Lock = "online schema change (job)"
	if isSwapAction(a) {
		a.NoTx = true // one statement per transaction, each waited for (cockroach_swap.go)
	}
	tables := jobTables(p.Schema, stmts)
	if len(tables) == 0 || d.noJobWaits {
		return []Action{a}, nil
	}
	wait := Action{ID: a.ID + "/wait-jobs", NoTx: true, Lock: "none (waits for schema-change jobs, reports progress)",
		SQL: []string{waitJobsSQL(tables)}}
	return []Action{a, wait}, nil
}

const backfillLock = "row writes in small batches, retried on 40001; batch bounds read AS OF SYSTEM TIME"

func isTriggerStmt(s string) bool {
	return strings.HasPrefix(s, "DROP TRIGGER IF EXISTS ") ||
		strings.HasPrefix(s, "DROP FUNCTION IF EXISTS ") && strings.Contains(s, "_tm_sync_")
}

var uniqueUsingIndexRE = regexp.MustCompile(`^ALTER TABLE (\S+) ADD CONSTRAINT (\S+) UNIQUE USING INDEX (\S+)$`)

// rewriteStmt rewrites one statement CockroachDB spells differently.
func (d Cockroach) rewriteStmt(s string) string {
	// A unique index is a unique constraint in CockroachDB; give it the name.
	if m := uniqueUsingIndexRE.FindStringSubmatch(s); m != nil {
		return "ALTER INDEX " + m[1] + "@" + m[3] + " RENAME TO " + m[2]
	}
	return s
}

func hasDDL(stmts []string) bool {
	for _, s := range stmts {
		u := strings.ToUpper(strings.TrimSpace(s))
		for _, k := range []string{"ALTER ", "CREATE ", "DROP ", "COMMENT ", "TRUNCATE "} {
			if strings.HasPrefix(u, k) {
				return true
			}
		}
	}
	return false
}

var unsupportedRE = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(?i)\bREPLICA IDENTITY\b`), "REPLICA IDENTITY is not supported (CockroachDB changefeeds see every column)"},
	{regexp.MustCompile(`(?i)\bEXCLUDE\s+USING\b`), "exclusion constraints are not supported"},
}

var doBlockRE = regexp.MustCompile(`^DO \$`)

// unsupported says why CockroachDB (this version) will refuse s, or "".
func (d Cockroach) unsupported(s string) string {
	if doBlockRE.MatchString(s) && !d.Version.AtLeast(25, 1) {
		return "DO blocks need CockroachDB v25.1 or later"
	}
	for _, u := range unsupportedRE {
		if u.re.MatchString(s) {
			return u.what
		}
	}
	return ""
}

// tableRefRE finds "schema"."table" after the keywords that name a table.
var tableRefRE = regexp.MustCompile(`(?:TABLE(?: IF (?:NOT )?EXISTS)?|ON|INDEX(?: IF EXISTS)?) ("(?:[^"]|"")*")\.("(?:[^"]|"")*")`)

// jobTables lists the tables (of schema) whose schema-change jobs the
// statements start.
func jobTables(schema string, stmts []string) []string {
	var out []string
	for _, s := range stmts {
		for _, m := range tableRefRE.FindAllStringSubmatch(s, -1) {
			t := stripQuotes(m[2])
			if stripQuotes(m[1]) != schema || slices.Contains(out, t) {
				continue
			}
			if i := strings.IndexByte(t, '@'); i >= 0 {
				t = t[:i]
			}
			out = append(out, t)
		}
	}
	return out
}

// jobTerminal are the terminal statuses of a CockroachDB job.
const jobTerminal = "'succeeded', 'failed', 'canceled', 'revert-failed'"

// jobsQuery selects the unfinished schema-change jobs on tables.
func jobsQuery(tables []string) string {
	like := make([]string, len(tables))
	for i, t := range tables {
		like[i] = "description LIKE " + literal("%"+likeEscape(t)+"%")
	}
	return "SELECT job_id FROM [SHOW JOBS] WHERE job_type IN ('SCHEMA CHANGE', 'NEW SCHEMA CHANGE') AND status NOT IN (" +
		jobTerminal + ") AND (" + strings.Join(like, " OR ") + ")"
}

// waitJobsSQL blocks until the schema-change jobs on tables are finished.
func waitJobsSQL(tables []string) string {
	return "SHOW JOBS WHEN COMPLETE (" + jobsQuery(tables) + ")"
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
