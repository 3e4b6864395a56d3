package expandcontract

// OpDropConstraint drops a constraint at contract (the old version keeps
// it until then; the new version is held to it too meanwhile). Up and Down
// are accepted for compatibility with pgroll files.
type OpDropConstraint struct {
	kind        string
	Table, Name string
	physTable   string
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
	op.Name, err = o.need("name", kind)
	return op, err
}

func (op *OpDropConstraint) Kind() string { return op.kind }

func (op *OpDropConstraint) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable = t.Physical
	return nil
}

func (op *OpDropConstraint) Complete(p *Planner) error {
	p.Late(Action{ID: "drop", SQL: []string{p.dropConstraintIfExists(op.physTable, op.Name)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

func (op *OpDropConstraint) Rollback(*Planner) error { return nil }

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
