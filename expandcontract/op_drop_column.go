package expandcontract

// OpDropColumn hides a column from the new version; new-version writes
// fill it with Down while the old version lives; contract drops it.
type OpDropColumn struct {
	Table  string
	Column string
	Down   *string

	phys, physTable string
}

func parseDropColumn(o *obj) (Operation, error) {
	if err := o.check("drop_column", "table", "column", "down"); err != nil {
		return nil, err
	}
	op := &OpDropColumn{}
	var err error
	if op.Table, err = o.need("table", "drop_column"); err != nil {
		return nil, err
	}
	if op.Column, err = o.need("column", "drop_column"); err != nil {
		return nil, err
	}
	op.Down, err = o.strp("down")
	return op, err
}

func (op *OpDropColumn) Kind() string { return "drop_column" }

func (op *OpDropColumn) Start(p *Planner) error {
	t, c, err := p.column(op.Table, op.Column)
	if err != nil {
		return err
	}
	if err := p.markChanged(t, c.Physical); err != nil {
		return err
	}
	if fk := p.snap.referencedBy(t.Physical, c.Physical); fk != "" {
		return errUsage("column %q of %q is referenced by foreign key %s: drop that constraint first", op.Column, op.Table, fk)
	}
	op.phys, op.physTable = c.Physical, t.Physical
	for i := range t.Cols {
		if t.Cols[i].Name == op.Column {
			t.Cols = append(t.Cols[:i], t.Cols[i+1:]...)
			break
		}
	}
	if op.Down != nil {
		p.SyncDown(t, op.phys, *op.Down)
	} else if oc := p.oldColumn(t.Physical, op.phys); oc != nil && oc.NotNull && oc.Default == nil {
		p.Warn("column %q is NOT NULL without default: new-version inserts fail until contract unless drop_column has a down expression", op.Column)
	}
	return nil
}

func (op *OpDropColumn) Complete(p *Planner) error {
	p.Swap(op.physTable, "ALTER TABLE "+p.D.Table(p.Schema, op.physTable)+" DROP COLUMN IF EXISTS "+p.D.Quote(op.phys))
	return nil
}

func (op *OpDropColumn) Rollback(*Planner) error { return nil }
