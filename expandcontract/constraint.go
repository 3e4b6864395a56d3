package expandcontract

import (
	"strings"
)

// ConstraintDef is a table constraint (create_table.constraints, create_constraint).
type ConstraintDef struct {
	Name             string
	Table            string
	Type             string // unique, check, foreign_key, primary_key, exclude
	Columns          []string
	Check            string
	References       *RefDef
	Exclude          *ExcludeDef
	NoInherit        bool
	Deferrable       bool
	InitDefer        bool
	NullsNotDistinct bool
	Include          []string // index_parameters.include_columns
	IndexWith        string   // index_parameters.storage_parameters
	Up, Down         [][2]string
}

// ExcludeDef is an EXCLUDE constraint.
type ExcludeDef struct{ Method, Elements, Predicate string }

func parseConstraintDef(o *obj, withTable bool) (*ConstraintDef, error) {
	keys := []string{"name", "type", "columns", "check", "references", "exclude", "no_inherit", "deferrable", "initially_deferred", "nulls_not_distinct", "index_parameters"}
	if withTable {
		keys = append(keys, "table", "up", "down")
	}
	if err := o.check("constraint", keys...); err != nil {
		return nil, err
	}
	c := &ConstraintDef{}
	var err error
	if c.Name, err = o.need("name", "constraint"); err != nil {
		return nil, err
	}
	if c.Type, err = o.need("type", "constraint "+c.Name); err != nil {
		return nil, err
	}
	if withTable {
		if c.Table, err = o.need("table", "create_constraint"); err != nil {
			return nil, err
		}
		if c.Up, err = o.strMap("up"); err != nil {
			return nil, err
		}
		if c.Down, err = o.strMap("down"); err != nil {
			return nil, err
		}
	}
	if c.Columns, err = o.strs("columns"); err != nil {
		return nil, err
	}
	if c.Check, err = o.str("check"); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		k string
		p *bool
	}{{"no_inherit", &c.NoInherit}, {"deferrable", &c.Deferrable}, {"initially_deferred", &c.InitDefer}, {"nulls_not_distinct", &c.NullsNotDistinct}} {
		if *f.p, err = o.boolv(f.k); err != nil {
			return nil, err
		}
	}
	if err := parseConstraintRefs(o, c); err != nil {
		return nil, err
	}
	if ip, err := o.sub("index_parameters"); err != nil {
		return nil, err
	} else if ip != nil {
		if err := ip.check("index_parameters", "include_columns", "storage_parameters", "tablespace"); err != nil {
			return nil, err
		}
		if c.Include, err = ip.strs("include_columns"); err != nil {
			return nil, err
		}
		if c.IndexWith, err = ip.str("storage_parameters"); err != nil {
			return nil, err
		}
	}
	return c, c.validate(o)
}

func parseConstraintRefs(o *obj, c *ConstraintDef) error {
	var err error
	if c.References, err = parseRef(o, "references"); err != nil {
		return err
	}
	ex, err := o.sub("exclude")
	if err != nil || ex == nil {
		return err
	}
	if err := ex.check("exclude", "index_method", "elements", "predicate"); err != nil {
		return err
	}
	c.Exclude = &ExcludeDef{}
	if c.Exclude.Method, err = ex.str("index_method"); err != nil {
		return err
	}
	if c.Exclude.Elements, err = ex.need("elements", "exclude"); err != nil {
		return err
	}
	c.Exclude.Predicate, err = ex.str("predicate")
	return err
}

func (c *ConstraintDef) validate(o *obj) error {
	switch c.Type {
	case "unique", "primary_key":
		if len(c.Columns) == 0 {
			return errAt(o.file, o.node, "constraint %q: columns are required", c.Name)
		}
	case "check":
		if c.Check == "" {
			return errAt(o.file, o.node, "constraint %q: check is required", c.Name)
		}
	case "foreign_key":
		if c.References == nil || len(c.Columns) == 0 {
			return errAt(o.file, o.node, "constraint %q: columns and references are required", c.Name)
		}
	case "exclude":
		if c.Exclude == nil {
			return errAt(o.file, o.node, "constraint %q: exclude is required", c.Name)
		}
	default:
		return errAt(o.file, o.node, "constraint %q: unknown type %q (unique, check, foreign_key, primary_key, exclude)", c.Name, c.Type)
	}
	return nil
}

func (p *Planner) physCols(t *tableModel, cols []string) ([]string, error) {
	out := make([]string, 0, len(cols))
	for _, n := range cols {
		c := t.col(n)
		if c == nil {
			return nil, errUsage("column %q does not exist in table %q", n, t.Name)
		}
		out = append(out, p.D.Quote(c.Physical))
	}
	return out, nil
}

// constraintSQL renders the constraint body (after CONSTRAINT name).
func (p *Planner) constraintSQL(t *tableModel, c *ConstraintDef, notValid bool) (string, error) {
	cols, err := p.physCols(t, c.Columns)
	if err != nil {
		return "", err
	}
	var s string
	switch c.Type {
	case "unique":
		s = "UNIQUE "
		if c.NullsNotDistinct {
			s += "NULLS NOT DISTINCT "
		}
		s += "(" + strings.Join(cols, ", ") + ")"
	case "primary_key":
		s = "PRIMARY KEY (" + strings.Join(cols, ", ") + ")"
	case "check":
		s = "CHECK (" + physicalExpr(t, c.Check) + ")"
		if c.NoInherit {
			s += " NO INHERIT"
		}
	case "foreign_key":
		ref, targets, err := p.refSQL(c.References)
		if err != nil {
			return "", err
		}
		p.refTargets = append(p.refTargets, targets...)
		s = "FOREIGN KEY (" + strings.Join(cols, ", ") + ") " + ref
	case "exclude":
		s = "EXCLUDE"
		if c.Exclude.Method != "" {
			s += " USING " + c.Exclude.Method
		}
		s += " (" + c.Exclude.Elements + ")"
		if c.Exclude.Predicate != "" {
			s += " WHERE (" + c.Exclude.Predicate + ")"
		}
	}
	if (c.Type == "unique" || c.Type == "primary_key") && len(c.Include) > 0 {
		inc, err := p.physCols(t, c.Include)
		if err != nil {
			return "", err
		}
		s += " INCLUDE (" + strings.Join(inc, ", ") + ")"
	}
	if (c.Type == "unique" || c.Type == "primary_key") && c.IndexWith != "" {
		s += " WITH (" + c.IndexWith + ")"
	}
	if c.Deferrable {
		s += " DEFERRABLE"
		if c.InitDefer {
			s += " INITIALLY DEFERRED"
		}
	}
	if notValid && (c.Type == "check" || c.Type == "foreign_key") {
		s += " NOT VALID"
	}
	return s, nil
}
