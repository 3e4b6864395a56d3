package expandcontract

import (
	"sort"
	"strings"
)

// Key columns changed by alter_column: a primary key column, or a column
// another table's foreign key references. The new column gets what the key
// needs while both versions are live, and contract moves the key onto it:
//
//   - primary key: expand builds a unique index on the table's key columns
//     (the changed ones replaced by their new columns) CONCURRENTLY; in the
//     table's swap transaction, once the old column is dropped (and with it
//     the old primary key), `ADD CONSTRAINT <pk> PRIMARY KEY USING INDEX`.
//   - foreign keys referencing the column: dropped in the swap transaction
//     before the old column, and re-added NOT VALID against the new column at
//     the end of that same transaction (so no write ever sees the tables
//     without them); a later contract action validates them (SHARE UPDATE
//     EXCLUSIVE: writes continue). The referencing tables' own swaps join
//     that transaction, so their renames are done when the keys are re-added.

// refTarget is a column a planned foreign key references.
type refTarget struct{ id, table, col string }

// plannedDuplicates lists the columns (as "table.column") that explicit
// alter_column operations duplicate, before any is planned: an operation
// on a referencing column must know whether the referenced key moves.
func plannedDuplicates(migs []*Migration) map[string]bool {
	out := map[string]bool{}
	for _, m := range migs {
		for _, op := range m.Operations {
			if a, ok := op.(*OpAlterColumn); ok && !a.force && a.duplicates() {
				out[a.Table+"."+a.Column] = true
			}
		}
	}
	return out
}

// keyMoves tells whether the key fk references is changed in this version
// (fk is then re-pointed by that change, not copied by the referencing one).
func (p *Planner) keyMoves(fk TableConstraint) bool {
	if fk.Type != "f" {
		return false
	}
	for _, c := range fk.RefColumns {
		if p.dupPlanned[fk.RefTable+"."+c] {
			return true
		}
	}
	return false
}

// noteDuplicate records that table.old is rebuilt as table.phys.
func (p *Planner) noteDuplicate(table, old, phys string, key bool) {
	p.dupNew[table+"."+old] = phys
	if !key {
		return
	}
	if _, ok := p.keyNew[table]; !ok {
		p.keyT = append(p.keyT, table)
		p.keyNew[table] = map[string]string{}
	}
	p.keyNew[table][old] = phys
}

// finalCol is the physical name table.old has once contract is done
// ("" when the column is dropped in this version).
func (p *Planner) finalCol(table, old string) string {
	phys := old
	if n, ok := p.dupNew[table+"."+old]; ok {
		phys = n
	}
	for _, t := range p.tables {
		if t.Physical == table {
			if c := t.colByPhysical(phys); c != nil {
				return c.Name
			}
		}
	}
	return ""
}

func pkIndexName(table string) string { return ident63("_tm_pk_" + table) }

// primaryIndex is the snapshot's primary key index of table.
func (p *Planner) primaryIndex(table string) *Index {
	if st := p.snap.Tables[table]; st != nil {
		for i := range st.Indexes {
			if st.Indexes[i].Primary {
				return &st.Indexes[i]
			}
		}
	}
	return nil
}

// startKeys plans, after every operation's Start, the unique indexes that
// will become the primary keys, and refuses new foreign keys to moving keys.
func (p *Planner) startKeys() error {
	for _, r := range p.refTargets {
		for old, phys := range p.keyNew[r.table] {
			if r.col == old || r.col == phys {
				return errUsage("%s: references %s.%s, which this version changes: add that reference in a later deploy", r.id, r.table, old)
			}
		}
	}
	for _, t := range p.keyT {
		ix := p.primaryIndex(t)
		if ix == nil || !p.changesPK(t) {
			continue
		}
		at := strings.Index(ix.Def, " USING ")
		if at < 0 {
			return errUsage("primary key of %q: cannot read its definition %q", t, ix.Def)
		}
		def := ix.Def[at:]
		for _, c := range ix.Columns {
			if n, ok := p.keyNew[t][c]; ok {
				def = colRef(c).ReplaceAllString(def, p.D.Quote(n))
			}
		}
		p.id = "keys/" + t
		name := pkIndexName(t)
		p.AfterSync(Action{ID: "index/" + name, NoTx: true, Index: name, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true,
			SQL: []string{"CREATE UNIQUE INDEX CONCURRENTLY " + p.D.Quote(name) + " ON " + p.D.Table(p.Schema, t) + def}})
	}
	return nil
}

func (p *Planner) changesPK(table string) bool {
	if st := p.snap.Tables[table]; st != nil {
		for _, c := range st.PK {
			if _, ok := p.keyNew[table][c]; ok {
				return true
			}
		}
	}
	return false
}

// dropReferencingFKs: the statements dropping the foreign keys that
// reference table.col (before the old column is dropped).
func (p *Planner) dropReferencingFKs(table, col string) []string {
	var out []string
	for _, f := range p.snap.referencing(table, col) {
		out = append(out, p.dropConstraintIfExists(f.Table, f.Name))
	}
	return out
}

// completeKeys adds, after every operation's Complete, the end of each key
// table's swap transaction (primary key, foreign keys re-added NOT VALID)
// and the foreign keys' validation.
func (p *Planner) completeKeys() {
	done := map[string]bool{}
	for _, t := range p.keyT {
		p.id = "keys/" + t
		if ix := p.primaryIndex(t); ix != nil && p.changesPK(t) {
			p.swapTail[t] = append(p.swapTail[t], "ALTER TABLE "+p.D.Table(p.Schema, t)+" ADD CONSTRAINT "+
				p.D.Quote(ix.Constraint)+" PRIMARY KEY USING INDEX "+p.D.Quote(pkIndexName(t)))
		}
		olds := make([]string, 0, len(p.keyNew[t]))
		for old := range p.keyNew[t] {
			olds = append(olds, old)
		}
		sort.Strings(olds)
		for _, old := range olds {
			for _, f := range p.snap.referencing(t, old) {
				if k := f.Table + "." + f.Name; !done[k] {
					done[k] = true
					p.moveFK(t, f)
				}
			}
		}
	}
}

// moveFK re-adds f against the final columns at the end of table's swap
// and validates it afterwards (unless it was NOT VALID before).
func (p *Planner) moveFK(table string, f fkRef) {
	cols, ok := p.finalCols(f.Table, f.Columns)
	refs, ok2 := p.finalCols(f.RefTable, f.RefColumns)
	if !ok || !ok2 {
		return // a column of it is dropped in this version: so is the key
	}
	rest, notValid := fkRest(f.Def)
	p.join(table, f.Table)
	p.swapAlso[table] = append(p.swapAlso[table], f.Table)
	p.swapTail[table] = append(p.swapTail[table], "ALTER TABLE "+p.D.Table(p.Schema, f.Table)+" ADD CONSTRAINT "+p.D.Quote(f.Name)+
		" FOREIGN KEY ("+strings.Join(cols, ", ")+") REFERENCES "+p.D.Table(p.Schema, f.RefTable)+" ("+strings.Join(refs, ", ")+")"+rest+" NOT VALID")
	if !notValid {
		p.Late(Action{ID: "validate/" + f.Table + "/" + f.Name, Scans: true,
			Lock: "SHARE UPDATE EXCLUSIVE on " + f.Table + ", ROW SHARE on " + f.RefTable + " (writes continue)",
			SQL:  []string{"ALTER TABLE " + p.D.Table(p.Schema, f.Table) + " VALIDATE CONSTRAINT " + p.D.Quote(f.Name)}})
	}
}

func (p *Planner) finalCols(table string, cols []string) ([]string, bool) {
	out := make([]string, len(cols))
	for i, c := range cols {
		n := p.finalCol(table, c)
		if n == "" {
			return nil, false
		}
		out[i] = p.D.Quote(n)
	}
	return out, true
}

// fkRest is what follows the referenced columns in a foreign key's
// definition (MATCH, ON DELETE/UPDATE, DEFERRABLE), and whether it was NOT VALID.
func fkRest(def string) (string, bool) {
	notValid := strings.HasSuffix(def, " NOT VALID")
	def = strings.TrimSuffix(def, " NOT VALID")
	at := strings.Index(def, " REFERENCES ")
	if at < 0 {
		return "", notValid
	}
	open := strings.Index(def[at:], "(")
	if open < 0 {
		return "", notValid
	}
	cl := strings.Index(def[at+open:], ")")
	if cl < 0 {
		return "", notValid
	}
	return def[at+open+cl+1:], notValid
}

// rollbackKeys drops the primary key indexes built at expand.
func (p *Planner) rollbackKeys() {
	for _, t := range p.keyT {
		if p.primaryIndex(t) != nil && p.changesPK(t) {
			p.id = "keys/" + t
			p.UndoFirst(Action{ID: "drop-index/" + pkIndexName(t), NoTx: true, Lock: "SHARE UPDATE EXCLUSIVE",
				SQL: []string{p.D.DropIndex(p.Schema, pkIndexName(t))}})
		}
	}
}

// join makes a and b's swaps one transaction.
func (p *Planner) join(a, b string) {
	ra, rb := p.find(a), p.find(b)
	if ra != rb {
		p.joined[rb] = ra
	}
}

func (p *Planner) find(t string) string {
	for p.joined[t] != "" && p.joined[t] != t {
		t = p.joined[t]
	}
	return t
}
