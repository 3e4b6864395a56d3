package expandcontract

import (
	"fmt"
	"strings"
)

func (p *Planner) syncName(table string) string { return ident63("_tm_sync_" + table) }

// addSync adds, per table with sync rules, one trigger function and trigger:
// writes from the new version (search_path starts with its schema) run the
// down expressions, all other writes (the old version, the backfill) the up
// ones. Expressions see the row's columns by their names in that version.
//
// With triggers the up rules are guarded so that the backfill and the new
// version never overwrite each other: a new-version UPDATE of a row the
// backfill has not reached yet first fills its new columns from the old ones
// (else down would compute the old column from NULL), and an old-version
// write recomputes a new column only when it changed an old column, inserts,
// or finds the new column NULL (so the backfill, which sets nothing the old
// version sees, keeps what the new version wrote).
func (p *Planner) addSync() {
	d := p.D
	guarded := p.guardedSync()
	for _, t := range p.syncT {
		fn := d.Table(p.Schema, p.syncName(t))
		var b strings.Builder
		fmt.Fprintf(&b, "CREATE OR REPLACE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $tm$\n", fn)
		if _, ok := d.(Postgres); ok {
			// in up/down subqueries a name is first the other table's column
			b.WriteString("#variable_conflict use_column\n")
		}
		b.WriteString("BEGIN\n")
		fmt.Fprintf(&b, "  IF %s THEN\n", d.IsNewVersion(p.plan.VersionSchema))
		var oldGuard func(string) string // of the up rules in old-version writes
		if guarded {
			b.WriteString("    IF TG_OP = 'UPDATE' THEN\n")
			p.syncBlock(&b, t, false, fillUnbackfilled)
			b.WriteString("    END IF;\n")
			oldGuard = p.upUnlessUnchanged(t)
		}
		p.syncBlock(&b, t, true, nil)
		b.WriteString("  ELSE\n")
		p.syncBlock(&b, t, false, oldGuard)
		b.WriteString("  END IF;\n  RETURN NEW;\nEND $tm$")
		tbl := d.Table(p.Schema, t)
		trg := d.Quote(p.syncName(t))
		p.plan.Expand = append(p.plan.Expand, Action{ID: "sync/" + t, Lock: "SHARE ROW EXCLUSIVE (brief)", SQL: []string{
			b.String(),
			"DROP TRIGGER IF EXISTS " + trg + " ON " + tbl,
			"CREATE TRIGGER " + trg + " BEFORE INSERT OR UPDATE ON " + tbl + " FOR EACH ROW EXECUTE FUNCTION " + fn + "()",
		}})
	}
}

// guardedSync tells whether the sync trigger is guarded and the backfill
// skips filled rows: on PostgreSQL, and on CockroachDB with triggers (the
// dual-write contract's catch-up must overwrite).
func (p *Planner) guardedSync() bool {
	switch d := p.D.(type) {
	case Postgres:
		return true
	case Cockroach:
		return d.Triggers()
	}
	return false
}

// fillUnbackfilled guards an up rule in a new-version UPDATE: only a new
// column the backfill has not filled yet (NULL before and after) is computed.
func fillUnbackfilled(target string) string {
	return "OLD." + target + " IS NULL AND NEW." + target + " IS NULL"
}

// upUnlessUnchanged guards an up rule in an old-version write: recompute on
// INSERT, when an old-version column changed, or when the target is NULL.
func (p *Planner) upUnlessUnchanged(t string) func(string) string {
	var nw, old, differ []string
	for _, v := range p.syncVars(t, false) {
		c := p.D.Quote(v[1])
		nw, old = append(nw, "NEW."+c), append(old, "OLD."+c)
		differ = append(differ, "NEW."+c+" IS DISTINCT FROM OLD."+c)
	}
	// On PostgreSQL record_image_eq (the *= operator, called as a function
	// so that the rows are not compared field by field) works for every
	// column type, those without equality too; CockroachDB has no
	// record_image_eq, and every one of its types has equality.
	changed := "(" + strings.Join(differ, " OR ") + ")"
	if _, ok := p.D.(Postgres); ok {
		changed = "NOT record_image_eq(ROW(" + strings.Join(nw, ", ") + "), ROW(" + strings.Join(old, ", ") + "))"
	}
	return func(target string) string {
		return "TG_OP = 'INSERT' OR NEW." + target + " IS NULL OR " + changed
	}
}

// syncBlock writes the rules of one direction; guard, when set, gives the
// condition under which a rule's target is (re)computed.
func (p *Planner) syncBlock(b *strings.Builder, t string, fromNew bool, guard func(target string) string) {
	var rules []syncRule
	for _, r := range p.sync[t] {
		if r.FromNew == fromNew {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		b.WriteString("    NULL;\n")
		return
	}
	d := p.D
	b.WriteString("    DECLARE\n")
	for _, v := range p.syncVars(t, fromNew) {
		fmt.Fprintf(b, "      %s %s.%s%%TYPE := NEW.%s;\n", d.Quote(v[0]), d.Table(p.Schema, t), d.Quote(v[1]), d.Quote(v[1]))
	}
	b.WriteString("    BEGIN\n")
	for _, r := range rules {
		if guard != nil {
			fmt.Fprintf(b, "      IF %s THEN NEW.%s := (%s); END IF;\n", guard(d.Quote(r.Target)), d.Quote(r.Target), r.Expr)
			continue
		}
		fmt.Fprintf(b, "      NEW.%s := (%s);\n", d.Quote(r.Target), r.Expr)
	}
	b.WriteString("    END;\n")
}

// syncVars: {name in the version, physical column} of table t.
func (p *Planner) syncVars(t string, fromNew bool) [][2]string {
	var out [][2]string
	if fromNew {
		for _, tm := range p.tables {
			if tm.Physical == t {
				for _, c := range tm.Cols {
					out = append(out, [2]string{c.Name, c.Physical})
				}
			}
		}
		return out
	}
	if st := p.snap.Tables[t]; st != nil {
		for _, c := range st.Columns {
			if !strings.HasPrefix(c.Name, "_tm_") {
				out = append(out, [2]string{c.Name, c.Name})
			}
		}
	}
	return out
}

func (p *Planner) dropSync(t string) []string {
	if _, ok := p.sync[t]; !ok {
		return nil
	}
	return []string{
		"DROP TRIGGER IF EXISTS " + p.D.Quote(p.syncName(t)) + " ON " + p.D.Table(p.Schema, t),
		"DROP FUNCTION IF EXISTS " + p.D.Table(p.Schema, p.syncName(t)) + "()",
	}
}

func (p *Planner) addViews() {
	spec := &ViewsSpec{Schema: p.Schema, VersionSchema: p.plan.VersionSchema}
	for n := range p.snap.Tables {
		spec.Known = append(spec.Known, n)
	}
	for _, t := range p.tables {
		spec.Known = append(spec.Known, t.Physical)
		vt := ViewTable{Name: t.Name, Physical: t.Physical}
		shown := map[string]bool{}
		for _, c := range t.Cols {
			vt.Columns = append(vt.Columns, [2]string{c.Name, c.Physical})
			shown[c.Physical] = true
		}
		if st := p.snap.Tables[t.Physical]; st != nil {
			for _, c := range st.Columns {
				if !shown[c.Name] {
					vt.Hidden = append(vt.Hidden, c.Name)
				}
			}
		}
		spec.Tables = append(spec.Tables, vt)
	}
	p.plan.Expand = append(p.plan.Expand, Action{ID: "version/views", Views: spec, Lock: "none (views only)"})
}

// ViewsSQL renders the statements that (re)create a version schema.
func ViewsSQL(d Dialect, spec *ViewsSpec) []string {
	vs := d.Quote(spec.VersionSchema)
	out := []string{"DROP SCHEMA IF EXISTS " + vs + " CASCADE", "CREATE SCHEMA " + vs}
	for _, t := range spec.Tables {
		cols := make([]string, 0, len(t.Columns))
		for _, c := range t.Columns {
			cols = append(cols, d.Quote(c[1])+" AS "+d.Quote(c[0]))
		}
		out = append(out, fmt.Sprintf("CREATE VIEW %s.%s AS SELECT %s FROM %s", vs, d.Quote(t.Name),
			strings.Join(cols, ", "), d.Table(spec.Schema, t.Physical)))
	}
	return out
}

func (p *Planner) backfills() []Action {
	var out []Action
	for _, t := range p.syncT {
		var set, unfilled []string
		for _, r := range p.sync[t] {
			if !r.FromNew {
				set = append(set, p.D.Quote(r.Target)+" = ("+r.Expr+")")
				unfilled = append(unfilled, p.D.Quote(r.Target)+" IS NULL")
			}
		}
		if len(set) == 0 {
			continue
		}
		id := "backfill/" + t
		out = append(out, Action{ID: id, Lock: "ROW EXCLUSIVE (row locks, small batches)", Scans: true,
			Backfill: &BackfillJob{ID: p.plan.VersionSchema + "/" + id, Schema: p.Schema, Table: t, Set: strings.Join(set, ", "),
				Filter: p.backfillFilter(unfilled)}})
	}
	return out
}

// backfillFilter skips rows whose new columns are all filled already (by a
// write of either version since the expand), where the guarded sync
// trigger fills every NULL new column on any write.
func (p *Planner) backfillFilter(unfilled []string) string {
	if !p.guardedSync() {
		return ""
	}
	return strings.Join(unfilled, " OR ")
}
