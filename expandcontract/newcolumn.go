package expandcontract

// Helpers shared by the operations that build a new column under a
// temporary name (add_column, alter_column).

func notNullName(phys string) string { return ident63(phys + "_nn") }

func uniqueIndexName(table, col string) string { return ident63("_tm_uq_" + table + "_" + col) }

func uniqueConstraintName(table, col string) string { return ident63(table + "_" + col + "_key") }

// addColumnSQL adds a temporary column. A volatile default (random(),
// nextval()...) would rewrite the table under ACCESS EXCLUSIVE, so such a
// column is added without it and the default set afterwards (new rows get
// it; existing rows are filled by the backfill).
// With lateDefault (a column the backfill fills) the default is set in a
// separate action once the sync trigger exists: until then, rows (existing
// ones, and those inserted before the trigger) keep NULL there, which is how
// the backfill knows they are still to fill.
func (p *Planner) addColumnSQL(table, phys, typ string, def *string, lateDefault bool) (stmts []string, volatile bool) {
	tbl := p.D.Table(p.Schema, table)
	add := "ALTER TABLE " + tbl + " ADD COLUMN IF NOT EXISTS " + p.D.Quote(phys) + " " + typ
	if def == nil {
		return []string{add}, false
	}
	setDefault := "ALTER TABLE " + tbl + " ALTER COLUMN " + p.D.Quote(phys) + " SET DEFAULT " + *def
	volatile = rewritesOnAdd(typ, def)
	switch {
	case lateDefault:
		p.AfterSync(Action{ID: "default", Lock: "ACCESS EXCLUSIVE (brief, catalog only)", SQL: []string{setDefault}})
		return []string{add}, volatile
	case volatile:
		return []string{add, setDefault}, true
	}
	return []string{add + " DEFAULT " + *def}, false
}

// undoNewColumnConstraints drops them on rollback, before the triggers go.
func (p *Planner) undoNewColumnConstraints(table, phys, name string, notNull bool, chk *CheckDef, ref *RefDef) {
	names := newColumnConstraintNames(table, phys, name, notNull, chk, p.added(ref))
	var stmts []string
	for _, n := range names {
		stmts = append(stmts, p.dropConstraintIfExists(table, n))
	}
	if len(stmts) > 0 {
		p.UndoFirst(Action{ID: "drop-constraints", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief)"})
	}
}

// newColumnConstraints: NOT VALID constraints on the temporary column.
func (p *Planner) newColumnConstraints(t *tableModel, phys, name string, notNull bool, chk *CheckDef, ref *RefDef) []string {
	d := p.D
	alter := "ALTER TABLE " + d.Table(p.Schema, t.Physical) + " "
	var out []string
	if notNull {
		out = append(out, alter+"ADD CONSTRAINT "+d.Quote(notNullName(phys))+" CHECK ("+d.Quote(phys)+" IS NOT NULL) NOT VALID")
	}
	if chk != nil {
		out = append(out, p.dropConstraintIfExists(t.Physical, chk.Name),
			alter+"ADD CONSTRAINT "+d.Quote(chk.Name)+" CHECK ("+physicalExpr(t, chk.Constraint)+") NOT VALID")
	}
	if ref != nil {
		if s, targets, err := p.refSQL(ref); err == nil {
			p.refTargets = append(p.refTargets, targets...)
			n := fkeyName(ref, t.Physical, name)
			out = append(out, p.dropConstraintIfExists(t.Physical, n),
				alter+"ADD CONSTRAINT "+d.Quote(n)+" FOREIGN KEY ("+d.Quote(phys)+") "+s+" NOT VALID")
		} else {
			p.Warn("%v", err)
			p.leaveOut(ref)
		}
	}
	return out
}

// newColumnConstraintNames lists the constraints newColumnConstraints adds
// on the temporary column of table's column name.
func newColumnConstraintNames(table, phys, name string, notNull bool, chk *CheckDef, ref *RefDef) []string {
	var names []string
	if notNull {
		names = append(names, notNullName(phys))
	}
	if chk != nil {
		names = append(names, chk.Name)
	}
	if ref != nil {
		names = append(names, fkeyName(ref, table, name))
	}
	return names
}

// fkeyName is the foreign key's given name, or PostgreSQL's default one.
func fkeyName(ref *RefDef, table, column string) string {
	if ref.Name != "" {
		return ref.Name
	}
	return ident63(table + "_" + column + "_fkey")
}

func (p *Planner) dropConstraintIfExists(table, name string) string {
	return "ALTER TABLE " + p.D.Table(p.Schema, table) + " DROP CONSTRAINT IF EXISTS " + p.D.Quote(name)
}

func (p *Planner) validateNewColumn(table, phys, name string, notNull bool, chk *CheckDef, ref *RefDef) {
	names := newColumnConstraintNames(table, phys, name, notNull, chk, p.added(ref))
	for _, n := range names {
		p.Validate(Action{ID: "validate/" + n, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true,
			SQL: []string{"ALTER TABLE " + p.D.Table(p.Schema, table) + " VALIDATE CONSTRAINT " + p.D.Quote(n)}})
	}
}

// finishNewColumn: the swap statements giving the column its final name.
func (p *Planner) finishNewColumn(table, phys, name string, notNull, unique bool) []string {
	d := p.D
	alter := "ALTER TABLE " + d.Table(p.Schema, table) + " "
	out := []string{alter + "RENAME COLUMN " + d.Quote(phys) + " TO " + d.Quote(name)}
	if notNull {
		out = append(out, alter+"ALTER COLUMN "+d.Quote(name)+" SET NOT NULL",
			alter+"DROP CONSTRAINT IF EXISTS "+d.Quote(notNullName(phys)))
	}
	if unique {
		out = append(out, alter+"ADD CONSTRAINT "+d.Quote(uniqueConstraintName(table, name))+" UNIQUE USING INDEX "+d.Quote(uniqueIndexName(table, name)))
	}
	return out
}

// uniqueIndex builds a unique index concurrently (INVALID leftovers rebuilt).
func (p *Planner) uniqueIndex(table, name string, cols ...string) Action {
	el := make([]string, len(cols))
	for i, c := range cols {
		el[i] = p.D.Quote(c)
	}
	return Action{ID: "index/" + name, NoTx: true, Index: name, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true,
		SQL: []string{p.D.CreateIndex(true, indexSQL{Unique: true, Schema: p.Schema, Name: name, Table: table, Elements: el})}}
}

// leaveOut records a new column's reference newColumnConstraints could not
// render (and only warned about): it is neither validated nor dropped later.
func (p *Planner) leaveOut(ref *RefDef) {
	if p.badRefs == nil {
		p.badRefs = map[*RefDef]bool{}
	}
	p.badRefs[ref] = true
}

// added is ref, or nil when it was left out.
func (p *Planner) added(ref *RefDef) *RefDef {
	if p.badRefs[ref] {
		return nil
	}
	return ref
}
