package expandcontract

import "gopkg.in/yaml.v3"

// OpDropConstraint drops a constraint. With up/down (as pgroll files have)
// the constrained columns are duplicated like alter_column, without the
// dropped constraint, so new-version writes are free of it at once while
// the old version keeps it; contract swaps the columns in (and the old ones
// take the constraint with them). Without up/down, or for a constraint the
// schema snapshot does not know, it is simply dropped at contract.
type OpDropConstraint struct {
	kind        string
	Table, Name string
	Column      string // v0.14 drop_constraint.column
	Up, Down    [][2]string
	physTable   string
	cols        []*OpAlterColumn
	baseID      string
}

func parseDropConstraint(o *obj) (Operation, error) {
	if err := o.check("drop_constraint", "table", "name", "column", "up", "down"); err != nil {
		return nil, err
	}
	return parseDropConstraintCommon(o, "drop_constraint")
}

func parseDropMultiConstraint(o *obj) (Operation, error) {
	if err := o.check("drop_multicolumn_constraint", "table", "name", "up", "down"); err != nil {
		return nil, err
	}
	return parseDropConstraintCommon(o, "drop_multicolumn_constraint")
}

func parseDropConstraintCommon(o *obj, kind string) (Operation, error) {
	op := &OpDropConstraint{kind: kind}
	var err error
	if op.Table, err = o.need("table", kind); err != nil {
		return nil, err
	}
	if op.Column, err = o.str("column"); err != nil {
		return nil, err
	}
	if op.Up, err = upDown(o, "up"); err != nil {
		return nil, err
	}
	if op.Down, err = upDown(o, "down"); err != nil {
		return nil, err
	}
	op.Name, err = o.need("name", kind)
	return op, err
}

// upDown reads up/down as one expression (key "") or a map per column.
func upDown(o *obj, k string) ([][2]string, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind == yaml.ScalarNode {
		return [][2]string{{"", n.Value}}, nil
	}
	return o.strMap(k)
}

func (op *OpDropConstraint) Kind() string { return op.kind }

// columns of the constraint, from the snapshot.
func (op *OpDropConstraint) columns(p *Planner) []string {
	st := p.snap.Tables[op.physTable]
	if st == nil {
		return nil
	}
	for _, c := range st.Constraints {
		if c.Name == op.Name {
			return c.Columns
		}
	}
	for _, ix := range st.Indexes {
		if ix.Constraint == op.Name && !ix.Primary {
			return ix.Columns
		}
	}
	return nil
}

func (op *OpDropConstraint) expr(m [][2]string, col string) string {
	if len(m) == 1 && m[0][0] == "" {
		return m[0][1]
	}
	return exprFor(m, col)
}

func (op *OpDropConstraint) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable, op.cols, op.baseID = t.Physical, nil, p.id
	if len(op.Up) == 0 && len(op.Down) == 0 {
		return nil
	}
	for _, col := range op.columns(p) {
		c := t.colByPhysical(col)
		if c == nil {
			continue
		}
		op.cols = append(op.cols, &OpAlterColumn{Table: op.Table, Column: c.Name, Up: op.expr(op.Up, col), Down: op.expr(op.Down, c.Name), force: true, skip: op.Name})
	}
	return op.each(p, func(c *OpAlterColumn) error { return c.Start(p) })
}

func (op *OpDropConstraint) each(p *Planner, f func(*OpAlterColumn) error) error {
	for _, c := range op.cols {
		p.id = op.baseID + "/" + c.Column
		if err := f(c); err != nil {
			return err
		}
	}
	p.id = op.baseID
	return nil
}

func (op *OpDropConstraint) Complete(p *Planner) error {
	if len(op.cols) > 0 {
		return op.each(p, func(c *OpAlterColumn) error { return c.Complete(p) })
	}
	p.Late(Action{ID: "drop", SQL: []string{p.dropConstraintIfExists(op.physTable, op.Name)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

func (op *OpDropConstraint) Rollback(p *Planner) error {
	return op.each(p, func(c *OpAlterColumn) error { return c.Rollback(p) })
}

// OpRenameConstraint renames a constraint at contract.
type OpRenameConstraint struct {
	Table, From, To string
	physTable       string
}

func parseRenameConstraint(o *obj) (Operation, error) {
	if err := o.check("rename_constraint", "table", "from", "to"); err != nil {
		return nil, err
	}
	op := &OpRenameConstraint{}
	var err error
	if op.Table, err = o.need("table", "rename_constraint"); err != nil {
		return nil, err
	}
	if op.From, err = o.need("from", "rename_constraint"); err != nil {
		return nil, err
	}
	op.To, err = o.need("to", "rename_constraint")
	return op, err
}

func (op *OpRenameConstraint) Kind() string { return "rename_constraint" }

func (op *OpRenameConstraint) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err == nil {
		op.physTable = t.Physical
	}
	return err
}

func (op *OpRenameConstraint) Complete(p *Planner) error {
	p.Late(Action{ID: "rename", Lock: "ACCESS EXCLUSIVE (brief)", SQL: []string{"DO $tm$ BEGIN IF EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " +
		literal(p.D.Table(p.Schema, op.physTable)) + "::regclass AND conname = " + literal(op.From) + ") THEN ALTER TABLE " +
		p.D.Table(p.Schema, op.physTable) + " RENAME CONSTRAINT " + p.D.Quote(op.From) + " TO " + p.D.Quote(op.To) + "; END IF; END $tm$"}})
	return nil
}

func (op *OpRenameConstraint) Rollback(*Planner) error { return nil }
