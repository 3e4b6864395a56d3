package expandcontract

// OpRenameTable renames a table in the new version's views; contract
// renames the physical table (last, after every other contract action).
type OpRenameTable struct {
	From, To string

	phys string
}

func parseRenameTable(o *obj) (Operation, error) {
	if err := o.check("rename_table", "from", "to"); err != nil {
		return nil, err
	}
	op := &OpRenameTable{}
	var err error
	if op.From, err = o.need("from", "rename_table"); err != nil {
		return nil, err
	}
	op.To, err = o.need("to", "rename_table")
	return op, err
}

func (op *OpRenameTable) Kind() string { return "rename_table" }

func (op *OpRenameTable) Start(p *Planner) error {
	t, err := p.table(op.From)
	if err != nil {
		return err
	}
	if _, err := p.table(op.To); err == nil {
		return errUsage("table %q already exists", op.To)
	}
	op.phys = t.Physical
	t.Name = op.To
	return nil
}

func (op *OpRenameTable) Complete(p *Planner) error {
	p.RenameLast(Action{ID: "rename", SQL: []string{"ALTER TABLE IF EXISTS " + p.D.Table(p.Schema, op.phys) + " RENAME TO " + p.D.Quote(op.To)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

func (op *OpRenameTable) Rollback(*Planner) error { return nil }
