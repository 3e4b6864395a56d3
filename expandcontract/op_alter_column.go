package expandcontract

import "strings"

// OpAlterColumn changes a column. A rename, a comment or a default alone
// change the catalog directly; anything else (type, nullability, unique,
// check, references) builds the new column under a temporary name, kept in
// sync both ways with Up and Down, and swapped in at contract.
type OpAlterColumn struct {
	Table, Column string
	Name          string
	Type          string
	Nullable      *bool
	Default       *string
	HasDefault    bool
	Unique        *struct{ Name string }
	Check         *CheckDef
	References    *RefDef
	Comment       *string
	HasComment    bool
	Up, Down      string

	old             *Column
	phys, physTable string
	final           string
	notNull         bool
	rename          *OpRenameColumn
	force           bool   // duplicate even without a type or constraint change (create/drop_constraint)
	skip            string // a constraint not to copy (drop_constraint)
	key             bool   // a primary key column or one a foreign key references (keys.go)
	dupIdx          []dupIndex
	dupCon          []dupConstraint
}

func parseAlterColumn(o *obj) (Operation, error) {
	if err := o.check("alter_column", "table", "column", "name", "type", "nullable", "default", "unique", "check", "references", "comment", "up", "down"); err != nil {
		return nil, err
	}
	op := &OpAlterColumn{HasDefault: o.has("default"), HasComment: o.has("comment")}
	var err error
	for _, f := range []struct {
		k string
		p *string
	}{{"name", &op.Name}, {"type", &op.Type}, {"up", &op.Up}, {"down", &op.Down}} {
		if *f.p, err = o.str(f.k); err != nil {
			return nil, err
		}
	}
	if op.Table, err = o.need("table", "alter_column"); err != nil {
		return nil, err
	}
	if op.Column, err = o.need("column", "alter_column"); err != nil {
		return nil, err
	}
	if op.Nullable, err = o.boolp("nullable"); err != nil {
		return nil, err
	}
	if op.Default, err = o.strp("default"); err != nil {
		return nil, err
	}
	if op.Comment, err = o.strp("comment"); err != nil {
		return nil, err
	}
	if op.Check, err = parseCheck(o, "check"); err != nil {
		return nil, err
	}
	if op.References, err = parseRef(o, "references"); err != nil {
		return nil, err
	}
	if u, err := o.sub("unique"); err != nil {
		return nil, err
	} else if u != nil {
		op.Unique = &struct{ Name string }{}
		if op.Unique.Name, err = u.need("name", "unique"); err != nil {
			return nil, err
		}
	}
	return op, nil
}

func (op *OpAlterColumn) Kind() string { return "alter_column" }

// duplicates tells whether the change needs a new column.
func (op *OpAlterColumn) duplicates() bool {
	return op.force || op.Type != "" || op.Nullable != nil || op.Unique != nil || op.Check != nil || op.References != nil
}

func (op *OpAlterColumn) Start(p *Planner) error {
	op.dupIdx, op.dupCon, op.rename = nil, nil, nil
	t, c, err := p.column(op.Table, op.Column)
	if err != nil {
		return err
	}
	op.physTable, op.phys = t.Physical, c.Physical
	op.old = p.oldColumn(t.Physical, c.Physical)
	if op.old == nil {
		return errUsage("column %q of %q was created in this version: alter it in a later deploy", op.Column, op.Table)
	}
	op.final = op.Column
	if op.Name != "" {
		op.final = op.Name
	}
	if !op.duplicates() {
		return op.startInPlace(p, t)
	}
	if err := p.markChanged(t, c.Physical); err != nil {
		return err
	}
	if err := op.checkKey(p, t, c); err != nil {
		return err
	}
	return op.startDuplicate(p, t, c)
}

func (op *OpAlterColumn) startInPlace(p *Planner, t *tableModel) error {
	if op.Name != "" && op.Name != op.Column {
		op.rename = &OpRenameColumn{Table: op.Table, From: op.Column, To: op.Name}
		if err := op.rename.Start(p); err != nil {
			return err
		}
	}
	d := p.D
	tbl := d.Table(p.Schema, t.Physical)
	var stmts []string
	if op.HasDefault {
		if op.Default == nil {
			stmts = append(stmts, "ALTER TABLE "+tbl+" ALTER COLUMN "+d.Quote(op.phys)+" DROP DEFAULT")
		} else {
			stmts = append(stmts, "ALTER TABLE "+tbl+" ALTER COLUMN "+d.Quote(op.phys)+" SET DEFAULT "+*op.Default)
		}
	}
	if op.HasComment {
		stmts = append(stmts, "COMMENT ON COLUMN "+tbl+"."+d.Quote(op.phys)+" IS "+literalOrNull(op.Comment))
	}
	if len(stmts) > 0 {
		p.Expand(Action{ID: "alter", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief, catalog only)"})
	}
	return nil
}

func (op *OpAlterColumn) startDuplicate(p *Planner, t *tableModel, c *colModel) error {
	d := p.D
	op.phys = tempName(c.Physical)
	typ, def := op.newTypeDefault()
	op.notNull = op.old.NotNull
	if op.Nullable != nil {
		op.notNull = !*op.Nullable
	}
	oldPhys := c.Physical
	c.Physical = op.phys
	c.Name = op.final
	stmts, _ := p.addColumnSQL(t.Physical, op.phys, typ, def, true)
	if cm := op.comment(); cm != nil {
		stmts = append(stmts, "COMMENT ON COLUMN "+d.Table(p.Schema, t.Physical)+"."+d.Quote(op.phys)+" IS "+literal(*cm))
	}
	p.Expand(Action{ID: "add", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief, catalog only)", Rewrites: strings.Contains(strings.ToLower(typ), "serial")})
	if cs := p.newColumnConstraints(t, op.phys, op.final, op.notNull, op.Check, op.References); len(cs) > 0 {
		p.AfterSync(Action{ID: "constraints", SQL: cs, Lock: "SHARE ROW EXCLUSIVE (brief, NOT VALID: no scan)"})
	}
	if op.Unique != nil {
		p.AfterSync(p.uniqueIndex(t.Physical, uniqueIndexName(t.Physical, op.final), op.phys))
	}
	if st := p.snap.Tables[t.Physical]; st != nil {
		op.duplicateIndexes(p, st)
		op.duplicateConstraints(p, st, op.Type == "" || op.Type == op.old.Type)
	}
	p.noteDuplicate(t.Physical, oldPhys, op.phys, op.key)
	up, down := op.Up, op.Down
	if up == "" {
		up = d.Quote(oldPhys)
	}
	if down == "" {
		down = d.Quote(op.final)
	}
	p.SyncUp(t, op.phys, up)
	p.VerifyUp(t, op.phys, up)
	p.SyncDown(t, oldPhys, down)
	return nil
}

func (op *OpAlterColumn) comment() *string {
	if op.HasComment {
		return op.Comment
	}
	return op.old.Comment
}

func (op *OpAlterColumn) Complete(p *Planner) error {
	if op.rename != nil {
		return op.rename.Complete(p)
	}
	if !op.duplicates() {
		return nil
	}
	p.validateNewColumn(op.physTable, op.phys, op.final, op.notNull, op.Check, op.References)
	drop := "ALTER TABLE " + p.D.Table(p.Schema, op.physTable) + " DROP COLUMN IF EXISTS " + p.D.Quote(op.old.Name)
	stmts := append(op.beforeDrop(p), drop)
	stmts = append(stmts, p.finishNewColumn(op.physTable, op.phys, op.final, op.notNull, op.Unique != nil)...)
	p.Swap(op.physTable, append(stmts, op.afterRename(p)...)...)
	p.Swap(op.physTable, op.completeDuplicates(p)...)
	if op.Unique != nil && op.Unique.Name != uniqueConstraintName(op.physTable, op.final) {
		p.Swap(op.physTable, "ALTER TABLE "+p.D.Table(p.Schema, op.physTable)+" RENAME CONSTRAINT "+
			p.D.Quote(uniqueConstraintName(op.physTable, op.final))+" TO "+p.D.Quote(op.Unique.Name))
	}
	return nil
}

func (op *OpAlterColumn) Rollback(p *Planner) error {
	d := p.D
	tbl := d.Table(p.Schema, op.physTable)
	if !op.duplicates() {
		var stmts []string
		if op.HasDefault {
			if op.old.Default == nil {
				stmts = append(stmts, "ALTER TABLE "+tbl+" ALTER COLUMN "+d.Quote(op.phys)+" DROP DEFAULT")
			} else {
				stmts = append(stmts, "ALTER TABLE "+tbl+" ALTER COLUMN "+d.Quote(op.phys)+" SET DEFAULT "+*op.old.Default)
			}
		}
		if op.HasComment {
			stmts = append(stmts, "COMMENT ON COLUMN "+tbl+"."+d.Quote(op.phys)+" IS "+literalOrNull(op.old.Comment))
		}
		if len(stmts) > 0 {
			p.Undo(Action{ID: "restore", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief, catalog only)"})
		}
		return nil
	}
	p.undoNewColumnConstraints(op.physTable, op.phys, op.final, op.notNull, op.Check, op.References)
	op.rollbackDuplicates(p)
	if op.Unique != nil {
		p.Undo(Action{ID: "drop-unique", NoTx: true, SQL: []string{d.DropIndex(p.Schema, uniqueIndexName(op.physTable, op.final))}, Lock: "SHARE UPDATE EXCLUSIVE"})
	}
	p.Undo(Action{ID: "drop", SQL: []string{"ALTER TABLE " + tbl + " DROP COLUMN IF EXISTS " + d.Quote(op.phys)}, Lock: "ACCESS EXCLUSIVE (brief, catalog only)"})
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
