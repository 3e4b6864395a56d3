package expandcontract

import "strings"

// CockroachDB refuses to rename or drop a column (or rename a table) that a
// view depends on. So on CockroachDB contract drops the new version's views
// just before the first statement that would trip over them and recreates
// them, in their final shape, as its last action. New-version clients get
// "relation does not exist" in between: run contract at a quiet moment.

// contractViews brackets the contract's renames and drops with the drop
// and the re-creation of the new version's views.
func (p *Planner) contractViews() {
	pl := p.plan
	var spec *ViewsSpec
	for _, a := range pl.Expand {
		if a.Views != nil {
			spec = a.Views
		}
	}
	first := -1
	for i, a := range pl.Contract {
		if touchesViews(a) {
			first = i
			break
		}
	}
	if spec == nil || first < 0 {
		return
	}
	drop := Action{ID: "version/views-drop", Lock: "none (views only)",
		Warning: "CockroachDB: the new version's views are dropped until version/views-final (a view blocks renames and drops of its columns)",
		SQL:     []string{"DROP SCHEMA IF EXISTS " + p.D.Quote(spec.VersionSchema) + " CASCADE"}}
	c := append([]Action{}, pl.Contract[:first]...)
	c = append(c, drop)
	c = append(c, pl.Contract[first:]...)
	pl.Contract = append(c, Action{ID: "version/views-final", Lock: "none (views only)", Views: finalViews(spec)})
}

func touchesViews(a Action) bool {
	if strings.HasPrefix(a.ID, "swap/") {
		return true
	}
	for _, s := range a.SQL {
		if strings.Contains(s, " RENAME ") || strings.Contains(s, " DROP COLUMN ") || strings.HasPrefix(s, "DROP TABLE ") {
			return true
		}
	}
	return false
}

// finalViews is the version's views once contract has given every table
// and column its final name (the name the version shows).
func finalViews(spec *ViewsSpec) *ViewsSpec {
	out := &ViewsSpec{Schema: spec.Schema, VersionSchema: spec.VersionSchema}
	for _, vt := range spec.Tables {
		ft := ViewTable{Name: vt.Name, Physical: vt.Name}
		for _, c := range vt.Columns {
			if strings.HasPrefix(c[0], "_tm_old_") {
				continue
			}
			ft.Columns = append(ft.Columns, [2]string{c[0], c[0]})
		}
		out.Tables = append(out.Tables, ft)
		out.Known = append(out.Known, vt.Name)
	}
	return out
}
