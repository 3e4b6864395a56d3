package expandcontract

import "strings"

// OpAddColumn adds a column under a temporary name; old-version writes fill
// it with Up, the backfill fills existing rows; contract renames it.
type OpAddColumn struct {
	Table  string
	Column ColumnDef
	Up     *string

	phys, physTable string
}

func parseAddColumn(o *obj) (Operation, error) {
	if err := o.check("add_column", "table", "column", "up"); err != nil {
		return nil, err
	}
	op := &OpAddColumn{}
	var err error
	if op.Table, err = o.need("table", "add_column"); err != nil {
		return nil, err
	}
	if op.Up, err = o.strp("up"); err != nil {
		return nil, err
	}
	n, ok := o.keys["column"]
	if !ok {
		return nil, errAt(o.file, o.node, "add_column: \"column\" is required")
	}
	c, err := parseColumnDef(o.file, n)
	if err != nil {
		return nil, err
	}
	op.Column = *c
	return op, nil
}

func (op *OpAddColumn) Kind() string { return "add_column" }

func (op *OpAddColumn) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	c := op.Column
	if t.col(c.Name) != nil {
		return errUsage("column %q already exists in %q", c.Name, op.Table)
	}
	if c.PK {
		return errUsage("add_column cannot add a primary key column; use create_constraint")
	}
	if !c.Nullable && c.Default == nil && op.Up == nil && !t.Created {
		return errUsage("column %q is NOT NULL without a default: give it an up expression (or nullable: true)", c.Name)
	}
	op.phys, op.physTable = tempName(c.Name), t.Physical
	d := p.D
	tbl := d.Table(p.Schema, t.Physical)
	// with up, existing rows stay NULL until the backfill fills them (a
	// default would look like a value the new version wrote)
	stmts, volatile := p.addColumnSQL(t.Physical, op.phys, c.Type, c.Default, op.Up != nil)
	if volatile && op.Up == nil {
		op.Up = c.Default // existing rows get the default, row by row
	}
	t.Cols = append(t.Cols, colModel{c.Name, op.phys})
	if c.Comment != nil {
		stmts = append(stmts, "COMMENT ON COLUMN "+tbl+"."+d.Quote(op.phys)+" IS "+literal(*c.Comment))
	}
	p.Expand(Action{ID: "add", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief, catalog only)", Rewrites: strings.Contains(strings.ToLower(c.Type), "serial")})
	if cs := p.newColumnConstraints(t, op.phys, c.Name, !c.Nullable, c.Check, c.References); len(cs) > 0 {
		p.AfterSync(Action{ID: "constraints", SQL: cs, Lock: "SHARE ROW EXCLUSIVE (brief, NOT VALID: no scan)"})
	}
	if c.Unique {
		p.AfterSync(p.uniqueIndex(t.Physical, uniqueIndexName(t.Physical, c.Name), op.phys))
	}
	if op.Up != nil {
		p.SyncUp(t, op.phys, *op.Up)
	}
	return nil
}

func (op *OpAddColumn) Complete(p *Planner) error {
	c := op.Column
	p.validateNewColumn(op.physTable, op.phys, c.Name, !c.Nullable, c.Check, c.References)
	p.Swap(op.physTable, p.finishNewColumn(op.physTable, op.phys, c.Name, !c.Nullable, c.Unique)...)
	return nil
}

func (op *OpAddColumn) Rollback(p *Planner) error {
	c := op.Column
	p.undoNewColumnConstraints(op.physTable, op.phys, c.Name, !c.Nullable, c.Check, c.References)
	if op.Column.Unique {
		p.Undo(Action{ID: "drop-unique", NoTx: true, SQL: []string{p.D.DropIndex(p.Schema, uniqueIndexName(op.physTable, op.Column.Name))}, Lock: "SHARE UPDATE EXCLUSIVE"})
	}
	p.Undo(Action{ID: "drop", SQL: []string{"ALTER TABLE " + p.D.Table(p.Schema, op.physTable) + " DROP COLUMN IF EXISTS " + p.D.Quote(op.phys)}, Lock: "ACCESS EXCLUSIVE (brief, catalog only)"})
	return nil
}
