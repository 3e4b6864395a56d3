package expandcontract

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// ColumnDef is a column in create_table / add_column.
type ColumnDef struct {
	Name       string
	Type       string
	Nullable   bool
	PK         bool
	Unique     bool
	Default    *string
	Comment    *string
	Check      *CheckDef
	References *RefDef
}

// CheckDef is a named CHECK constraint.
type CheckDef struct {
	Name       string
	Constraint string
	NoInherit  bool
}

// RefDef is a foreign key (single column in column definitions).
type RefDef struct {
	Name      string
	Table     string
	Columns   []string
	OnDelete  string
	OnUpdate  string
	MatchType string
}

func parseColumnDef(file string, n *yaml.Node) (*ColumnDef, error) {
	o, err := newObj(file, n, "column")
	if err != nil {
		return nil, err
	}
	if err := o.check("column", "name", "type", "nullable", "pk", "unique", "default", "comment", "check", "references", "generated"); err != nil {
		return nil, err
	}
	c := &ColumnDef{}
	if c.Name, err = o.need("name", "column"); err != nil {
		return nil, err
	}
	if c.Type, err = o.need("type", "column "+c.Name); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		k string
		p *bool
	}{{"nullable", &c.Nullable}, {"pk", &c.PK}, {"unique", &c.Unique}} {
		if *f.p, err = o.boolv(f.k); err != nil {
			return nil, err
		}
	}
	if c.Default, err = o.strp("default"); err != nil {
		return nil, err
	}
	if c.Comment, err = o.strp("comment"); err != nil {
		return nil, err
	}
	if c.Check, err = parseCheck(o, "check"); err != nil {
		return nil, err
	}
	c.References, err = parseRef(o, "references")
	return c, err
}

func parseCheck(o *obj, k string) (*CheckDef, error) {
	s, err := o.sub(k)
	if s == nil || err != nil {
		return nil, err
	}
	if err := s.check(k, "name", "constraint", "no_inherit"); err != nil {
		return nil, err
	}
	c := &CheckDef{}
	if c.Name, err = s.need("name", k); err != nil {
		return nil, err
	}
	if c.Constraint, err = s.need("constraint", k); err != nil {
		return nil, err
	}
	c.NoInherit, err = s.boolv("no_inherit")
	return c, err
}

func parseRef(o *obj, k string) (*RefDef, error) {
	s, err := o.sub(k)
	if s == nil || err != nil {
		return nil, err
	}
	if err := s.check(k, "name", "table", "column", "columns", "on_delete", "on_update", "match_type", "deferrable", "initially_deferred", "on_delete_set_columns"); err != nil {
		return nil, err
	}
	r := &RefDef{}
	for _, f := range []struct {
		k string
		p *string
	}{{"name", &r.Name}, {"on_delete", &r.OnDelete}, {"on_update", &r.OnUpdate}, {"match_type", &r.MatchType}} {
		if *f.p, err = s.str(f.k); err != nil {
			return nil, err
		}
	}
	if r.Table, err = s.need("table", k); err != nil {
		return nil, err
	}
	if col, _ := s.str("column"); col != "" {
		r.Columns = []string{col}
	} else if r.Columns, err = s.strs("columns"); err != nil {
		return nil, err
	}
	if len(r.Columns) == 0 {
		return nil, errAt(s.file, s.node, "%s: column or columns is required", k)
	}
	return r, nil
}

// refSQL renders "REFERENCES t(c) ..." against the new version's physical
// names, with the columns it references. It records nothing: a caller that
// uses the SQL adds the targets to p.refTargets (startKeys checks them).
func (p *Planner) refSQL(r *RefDef) (string, []refTarget, error) {
	t, err := p.table(r.Table)
	if err != nil {
		return "", nil, err
	}
	cols := make([]string, 0, len(r.Columns))
	targets := make([]refTarget, 0, len(r.Columns))
	for _, c := range r.Columns {
		cm := t.col(c)
		if cm == nil {
			return "", nil, errUsage("referenced column %q does not exist in %q", c, r.Table)
		}
		cols = append(cols, p.D.Quote(cm.Physical))
		targets = append(targets, refTarget{id: p.id, table: t.Physical, col: cm.Physical})
	}
	s := "REFERENCES " + p.D.Table(p.Schema, t.Physical) + " (" + strings.Join(cols, ", ") + ")"
	if r.MatchType != "" {
		s += " MATCH " + strings.ToUpper(r.MatchType)
	}
	if r.OnDelete != "" {
		s += " ON DELETE " + strings.ToUpper(r.OnDelete)
	}
	if r.OnUpdate != "" {
		s += " ON UPDATE " + strings.ToUpper(r.OnUpdate)
	}
	return s, targets, nil
}

// physicalExpr rewrites column names in expr to their physical names.
func physicalExpr(t *tableModel, expr string) string {
	for _, c := range t.Cols {
		if c.Name == c.Physical {
			continue
		}
		re := regexp.MustCompile(`("` + regexp.QuoteMeta(c.Name) + `"|\b` + regexp.QuoteMeta(c.Name) + `\b)`)
		expr = re.ReplaceAllString(expr, `"`+c.Physical+`"`)
	}
	return expr
}

// rewritesOnAdd tells whether ADD COLUMN with this default rewrites the table.
func rewritesOnAdd(typ string, def *string) bool {
	t := strings.ToLower(typ)
	if strings.Contains(t, "serial") || strings.Contains(t, "generated") {
		return true
	}
	if def == nil {
		return false
	}
	d := strings.ToLower(*def)
	for _, v := range []string{"random(", "gen_random_uuid(", "nextval(", "clock_timestamp(", "uuid_generate", "timeofday("} {
		if strings.Contains(d, v) {
			return true
		}
	}
	return false
}
