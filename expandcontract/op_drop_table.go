package expandcontract

// OpDropTable hides a table from the new version; contract drops it.
type OpDropTable struct {
	Name string

	phys string
}

func parseDropTable(o *obj) (Operation, error) {
	if err := o.check("drop_table", "name"); err != nil {
		return nil, err
	}
	n, err := o.need("name", "drop_table")
	return &OpDropTable{Name: n}, err
}

func (op *OpDropTable) Kind() string { return "drop_table" }

func (op *OpDropTable) Start(p *Planner) error {
	t, err := p.table(op.Name)
	if err != nil {
		return err
	}
	op.phys = t.Physical
	for i, x := range p.tables {
		if x == t {
			p.tables = append(p.tables[:i], p.tables[i+1:]...)
			break
		}
	}
	return nil
}

func (op *OpDropTable) Complete(p *Planner) error {
	p.Late(Action{ID: "drop", SQL: []string{"DROP TABLE IF EXISTS " + p.D.Table(p.Schema, op.phys)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

func (op *OpDropTable) Rollback(*Planner) error { return nil }
