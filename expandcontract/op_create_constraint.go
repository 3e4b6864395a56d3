package expandcontract

// OpCreateConstraint adds a constraint without blocking: check and foreign
// keys NOT VALID (validated at contract), unique and primary keys as an
// index built CONCURRENTLY and attached at contract. An exclusion constraint
// cannot be built without a scan under lock; the plan says so.
type OpCreateConstraint struct {
	ConstraintDef

	physTable string
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
	switch op.Type {
	case "unique", "primary_key":
		p.Undo(Action{ID: "drop", NoTx: true, SQL: []string{d.DropIndex(p.Schema, op.Name)}, Lock: "SHARE UPDATE EXCLUSIVE"})
	default:
		p.Undo(Action{ID: "drop", SQL: []string{p.dropConstraintIfExists(op.physTable, op.Name)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	}
	return nil
}
