package expandcontract

// OpCreateConstraint adds a constraint without blocking: check and foreign
// keys NOT VALID (validated at contract), unique and primary keys as an
// index built CONCURRENTLY and attached at contract. An exclusion constraint
// cannot be built without a scan under lock; the plan says so.
//
// With up/down (as pgroll files have), check, foreign_key and unique
// constraints are built the pgroll way instead: each column is duplicated
// (kept in sync by up and down, like alter_column), the constraint is put on
// the new columns, so old-version writes are never held to it, and contract
// swaps the columns in.
type OpCreateConstraint struct {
	ConstraintDef

	physTable string
	cols      []*OpAlterColumn
	baseID    string
}

// duplicating tells whether the constraint goes on duplicated columns.
func (op *OpCreateConstraint) duplicating() bool {
	return (len(op.Up) > 0 || len(op.Down) > 0) && len(op.Columns) > 0 && (op.Type == "check" || op.Type == "foreign_key" || op.Type == "unique")
}

func exprFor(m [][2]string, col string) string {
	for _, kv := range m {
		if kv[0] == col {
			return kv[1]
		}
	}
	return ""
}

// eachColumn runs f for each duplicated column with its own ID prefix.
func (op *OpCreateConstraint) eachColumn(p *Planner, f func(*OpAlterColumn) error) error {
	for _, c := range op.cols {
		p.id = op.baseID + "/" + c.Column
		if err := f(c); err != nil {
			return err
		}
	}
	p.id = op.baseID
	return nil
}

func (op *OpCreateConstraint) startDuplicating(p *Planner) error {
	op.baseID, op.cols = p.id, nil
	for _, col := range op.Columns {
		op.cols = append(op.cols, &OpAlterColumn{Table: op.Table, Column: col, Up: exprFor(op.Up, col), Down: exprFor(op.Down, col), force: true})
	}
	if err := op.eachColumn(p, func(c *OpAlterColumn) error { return c.Start(p) }); err != nil {
		return err
	}
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable = t.Physical
	if op.Type == "unique" {
		cols, err := p.physCols(t, op.Columns)
		if err != nil {
			return err
		}
		a := p.uniqueIndex(t.Physical, op.Name)
		a.SQL = []string{p.D.CreateIndex(true, indexSQL{Unique: true, Schema: p.Schema, Name: op.Name, Table: t.Physical, Elements: cols, NullsNotDistinct: op.NullsNotDistinct})}
		p.AfterSync(a)
		return nil
	}
	body, err := p.constraintSQL(t, &op.ConstraintDef, true)
	if err != nil {
		return err
	}
	p.AfterSync(Action{ID: "add", Lock: "SHARE ROW EXCLUSIVE (brief, NOT VALID: no scan)", SQL: []string{
		p.dropConstraintIfExists(t.Physical, op.Name),
		"ALTER TABLE " + p.D.Table(p.Schema, t.Physical) + " ADD CONSTRAINT " + p.D.Quote(op.Name) + " " + body}})
	return nil
}

func parseCreateConstraint(o *obj) (Operation, error) {
	c, err := parseConstraintDef(o, true)
	if err != nil {
		return nil, err
	}
	return &OpCreateConstraint{ConstraintDef: *c}, nil
}

func (op *OpCreateConstraint) Kind() string { return "create_constraint" }

func (op *OpCreateConstraint) Start(p *Planner) error {
	if op.duplicating() {
		return op.startDuplicating(p)
	}
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable = t.Physical
	d := p.D
	tbl := d.Table(p.Schema, t.Physical)
	switch op.Type {
	case "unique", "primary_key":
		cols, err := p.physCols(t, op.Columns)
		if err != nil {
			return err
		}
		a := p.uniqueIndex(t.Physical, op.Name)
		spec := indexSQL{Unique: true, Schema: p.Schema, Name: op.Name, Table: t.Physical, Elements: cols, Storage: op.IndexWith}
		if len(op.Include) > 0 {
			if spec.Include, err = p.physCols(t, op.Include); err != nil {
				return err
			}
		}
		spec.NullsNotDistinct = op.NullsNotDistinct
		a.SQL = []string{d.CreateIndex(true, spec)}
		p.Expand(a)
		return nil
	}
	body, err := p.constraintSQL(t, &op.ConstraintDef, true)
	if err != nil {
		return err
	}
	a := Action{ID: "add", Lock: "SHARE ROW EXCLUSIVE (brief)", SQL: []string{
		"ALTER TABLE " + tbl + " DROP CONSTRAINT IF EXISTS " + d.Quote(op.Name),
		"ALTER TABLE " + tbl + " ADD CONSTRAINT " + d.Quote(op.Name) + " " + body}}
	if op.Type == "exclude" {
		a.Lock, a.Scans = "ACCESS EXCLUSIVE (for the whole scan)", true
		p.Warn("exclusion constraint %q scans %q under an ACCESS EXCLUSIVE lock", op.Name, op.Table)
	}
	if op.Type == "check" && len(op.Up) == 0 {
		p.Warn("check %q also applies to old-version writes from now on", op.Name)
	}
	p.Expand(a)
	return nil
}

func (op *OpCreateConstraint) Complete(p *Planner) error {
	if op.duplicating() {
		if err := op.eachColumn(p, func(c *OpAlterColumn) error { return c.Complete(p) }); err != nil {
			return err
		}
	}
	d := p.D
	tbl := d.Table(p.Schema, op.physTable)
	switch op.Type {
	case "check", "foreign_key":
		p.Validate(Action{ID: "validate", Lock: "SHARE UPDATE EXCLUSIVE", Scans: true,
			SQL: []string{"ALTER TABLE " + tbl + " VALIDATE CONSTRAINT " + d.Quote(op.Name)}})
	case "unique":
		p.Swap(op.physTable, "ALTER TABLE "+tbl+" ADD CONSTRAINT "+d.Quote(op.Name)+" UNIQUE USING INDEX "+d.Quote(op.Name))
	case "primary_key":
		p.Swap(op.physTable, "ALTER TABLE "+tbl+" ADD CONSTRAINT "+d.Quote(op.Name)+" PRIMARY KEY USING INDEX "+d.Quote(op.Name))
	}
	return nil
}

func (op *OpCreateConstraint) Rollback(p *Planner) error {
	d := p.D
	if op.duplicating() {
		if op.Type == "unique" {
			p.Undo(Action{ID: "drop", NoTx: true, SQL: []string{d.DropIndex(p.Schema, op.Name)}, Lock: "SHARE UPDATE EXCLUSIVE"})
		} else {
			p.UndoFirst(Action{ID: "drop", SQL: []string{p.dropConstraintIfExists(op.physTable, op.Name)}, Lock: "ACCESS EXCLUSIVE (brief)"})
		}
		return op.eachColumn(p, func(c *OpAlterColumn) error { return c.Rollback(p) })
	}
	switch op.Type {
	case "unique", "primary_key":
		p.Undo(Action{ID: "drop", NoTx: true, SQL: []string{d.DropIndex(p.Schema, op.Name)}, Lock: "SHARE UPDATE EXCLUSIVE"})
	default:
		p.Undo(Action{ID: "drop", SQL: []string{p.dropConstraintIfExists(op.physTable, op.Name)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	}
	return nil
}
