package expandcontract

import "strings"

// OpCreateTable creates a table (invisible to the old version's views).
type OpCreateTable struct {
	Name        string
	Columns     []*ColumnDef
	Constraints []*ConstraintDef
	Comment     *string
}

func parseCreateTable(o *obj) (Operation, error) {
	if err := o.check("create_table", "name", "columns", "constraints", "comment"); err != nil {
		return nil, err
	}
	op := &OpCreateTable{}
	var err error
	if op.Name, err = o.need("name", "create_table"); err != nil {
		return nil, err
	}
	if op.Comment, err = o.strp("comment"); err != nil {
		return nil, err
	}
	cols, err := o.list("columns")
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, errAt(o.file, o.node, "create_table %q: columns are required", op.Name)
	}
	for _, n := range cols {
		c, err := parseColumnDef(o.file, n)
		if err != nil {
			return nil, err
		}
		op.Columns = append(op.Columns, c)
	}
	cons, err := o.list("constraints")
	if err != nil {
		return nil, err
	}
	for _, n := range cons {
		co, err := newObj(o.file, n, "constraint")
		if err != nil {
			return nil, err
		}
		c, err := parseConstraintDef(co, false)
		if err != nil {
			return nil, err
		}
		op.Constraints = append(op.Constraints, c)
	}
	return op, nil
}

func (op *OpCreateTable) Kind() string { return "create_table" }

func (op *OpCreateTable) Start(p *Planner) error {
	if _, err := p.table(op.Name); err == nil {
		return errUsage("table %q already exists", op.Name)
	}
	t := &tableModel{Name: op.Name, Physical: op.Name, Created: true}
	for _, c := range op.Columns {
		t.Cols = append(t.Cols, colModel{c.Name, c.Name})
	}
	p.tables = append(p.tables, t)
	d := p.D
	var defs, pk []string
	for _, c := range op.Columns {
		s, err := p.columnSQL(t, c)
		if err != nil {
			return err
		}
		defs = append(defs, s)
		if c.PK {
			pk = append(pk, d.Quote(c.Name))
		}
	}
	if len(pk) > 0 {
		defs = append(defs, "PRIMARY KEY ("+strings.Join(pk, ", ")+")")
	}
	for _, c := range op.Constraints {
		s, err := p.constraintSQL(t, c, false)
		if err != nil {
			return err
		}
		defs = append(defs, "CONSTRAINT "+d.Quote(c.Name)+" "+s)
	}
	tbl := d.Table(p.Schema, op.Name)
	stmts := []string{"CREATE TABLE IF NOT EXISTS " + tbl + " (\n  " + strings.Join(defs, ",\n  ") + "\n)"}
	if op.Comment != nil {
		stmts = append(stmts, "COMMENT ON TABLE "+tbl+" IS "+literal(*op.Comment))
	}
	for _, c := range op.Columns {
		if c.Comment != nil {
			stmts = append(stmts, "COMMENT ON COLUMN "+tbl+"."+d.Quote(c.Name)+" IS "+literal(*c.Comment))
		}
	}
	p.Expand(Action{ID: "create", SQL: stmts, Lock: "none (new table)"})
	return nil
}

func (p *Planner) columnSQL(t *tableModel, c *ColumnDef) (string, error) {
	d := p.D
	s := d.Quote(c.Name) + " " + c.Type
	if !c.Nullable && !c.PK {
		s += " NOT NULL"
	}
	if c.Unique {
		s += " UNIQUE"
	}
	if c.Default != nil {
		s += " DEFAULT " + *c.Default
	}
	if c.Check != nil {
		s += " CONSTRAINT " + d.Quote(c.Check.Name) + " CHECK (" + c.Check.Constraint + ")"
		if c.Check.NoInherit {
			s += " NO INHERIT"
		}
	}
	if c.References != nil {
		ref, targets, err := p.refSQL(c.References)
		if err != nil {
			return "", err
		}
		p.refTargets = append(p.refTargets, targets...)
		if c.References.Name != "" {
			s += " CONSTRAINT " + d.Quote(c.References.Name)
		}
		s += " " + ref
	}
	return s, nil
}

func (op *OpCreateTable) Complete(*Planner) error { return nil }

func (op *OpCreateTable) Rollback(p *Planner) error {
	p.Undo(Action{ID: "drop", SQL: []string{"DROP TABLE IF EXISTS " + p.D.Table(p.Schema, op.Name)}, Lock: "ACCESS EXCLUSIVE (new table)"})
	return nil
}
