package expandcontract

// OpRenameColumn renames a column in the new version's views; contract
// renames the physical column.
type OpRenameColumn struct {
	Table, From, To string

	phys, physTable string
}

func parseRenameColumn(o *obj) (Operation, error) {
	if err := o.check("rename_column", "table", "from", "to"); err != nil {
		return nil, err
	}
	op := &OpRenameColumn{}
	var err error
	if op.Table, err = o.need("table", "rename_column"); err != nil {
		return nil, err
	}
	if op.From, err = o.need("from", "rename_column"); err != nil {
		return nil, err
	}
	op.To, err = o.need("to", "rename_column")
	return op, err
}

func (op *OpRenameColumn) Kind() string { return "rename_column" }

func (op *OpRenameColumn) Start(p *Planner) error {
	t, c, err := p.column(op.Table, op.From)
	if err != nil {
		return err
	}
	if t.col(op.To) != nil {
		return errUsage("column %q already exists in %q", op.To, op.Table)
	}
	if err := p.markChanged(t, c.Physical); err != nil {
		return err
	}
	op.phys, op.physTable = c.Physical, t.Physical
	c.Name = op.To
	return nil
}

func (op *OpRenameColumn) Complete(p *Planner) error {
	p.Swap(op.physTable, "ALTER TABLE "+p.D.Table(p.Schema, op.physTable)+" RENAME COLUMN "+p.D.Quote(op.phys)+" TO "+p.D.Quote(op.To))
	return nil
}

func (op *OpRenameColumn) Rollback(*Planner) error { return nil }
