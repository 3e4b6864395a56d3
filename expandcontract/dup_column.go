package expandcontract

import (
	"regexp"
	"strings"
)

// Indexes and constraints of a column that alter_column rebuilds under a
// temporary name: they are copied onto the new column at expand (indexes
// CONCURRENTLY, constraints NOT VALID) and take the old names at contract,
// when the old column (and with it the originals) is dropped.

type dupIndex struct {
	orig, tmp, constraint string
}

type dupConstraint struct {
	orig, tmp string
}

// colRef matches a column name in a definition from pg_get_indexdef or
// pg_get_constraintdef (bare or quoted).
func colRef(col string) *regexp.Regexp {
	return regexp.MustCompile(`("` + regexp.QuoteMeta(col) + `"|\b` + regexp.QuoteMeta(col) + `\b)`)
}

// duplicateIndexes plans a copy of every non-primary index on old.
func (op *OpAlterColumn) duplicateIndexes(p *Planner, st *Table) {
	re := colRef(op.old.Name)
	for _, ix := range st.Indexes {
		if ix.Primary || !contains(ix.Columns, op.old.Name) || (op.skip != "" && (ix.Constraint == op.skip || ix.Name == op.skip)) {
			continue
		}
		at := strings.Index(ix.Def, " USING ")
		if at < 0 {
			continue
		}
		d := dupIndex{orig: ix.Name, tmp: ident63("_tm_ix_" + ix.Name), constraint: ix.Constraint}
		head := "CREATE INDEX CONCURRENTLY "
		if ix.Unique {
			head = "CREATE UNIQUE INDEX CONCURRENTLY "
		}
		sql := head + p.D.Quote(d.tmp) + " ON " + p.D.Table(p.Schema, op.physTable) + re.ReplaceAllString(ix.Def[at:], p.D.Quote(op.phys))
		p.AfterSync(Action{ID: "index/" + d.tmp, NoTx: true, Index: d.tmp, SQL: []string{sql}, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true})
		op.dupIdx = append(op.dupIdx, d)
	}
}

// duplicateConstraints plans a NOT VALID copy of every check and foreign
// key on old (checks only when the type does not change: their definitions
// are written for the old type; a foreign key works for the new type, e.g.
// a bigint referencing an integer).
func (op *OpAlterColumn) duplicateConstraints(p *Planner, st *Table, sameType bool) {
	re := colRef(op.old.Name)
	for _, c := range st.Constraints {
		if !contains(c.Columns, op.old.Name) || c.Name == op.skip || p.keyMoves(c) {
			continue // a foreign key to a key this version changes moves with that key (keys.go)
		}
		if !sameType && c.Type != "f" {
			p.Warn("constraint %q on %q is dropped with the old column at contract (the type changes): recreate it for the new type", c.Name, op.Column)
			continue
		}
		d := dupConstraint{orig: c.Name, tmp: ident63("_tm_c_" + c.Name)}
		def := re.ReplaceAllString(strings.TrimSuffix(c.Def, " NOT VALID"), p.D.Quote(op.phys))
		p.AfterSync(Action{ID: "constraint/" + d.tmp, Lock: "SHARE ROW EXCLUSIVE (brief, NOT VALID: no scan)", SQL: []string{
			p.dropConstraintIfExists(op.physTable, d.tmp),
			"ALTER TABLE " + p.D.Table(p.Schema, op.physTable) + " ADD CONSTRAINT " + p.D.Quote(d.tmp) + " " + def + " NOT VALID"}})
		op.dupCon = append(op.dupCon, d)
	}
}

// completeDuplicates: validate the copies, then (in the swap, after the old
// column is dropped) give them the original names.
func (op *OpAlterColumn) completeDuplicates(p *Planner) []string {
	alter := "ALTER TABLE " + p.D.Table(p.Schema, op.physTable) + " "
	var out []string
	for _, c := range op.dupCon {
		p.Validate(Action{ID: "validate/" + c.tmp, Lock: "SHARE UPDATE EXCLUSIVE", Scans: true,
			SQL: []string{alter + "VALIDATE CONSTRAINT " + p.D.Quote(c.tmp)}})
		out = append(out, alter+"RENAME CONSTRAINT "+p.D.Quote(c.tmp)+" TO "+p.D.Quote(c.orig))
	}
	for _, ix := range op.dupIdx {
		if ix.constraint != "" {
			out = append(out, alter+"ADD CONSTRAINT "+p.D.Quote(ix.constraint)+" UNIQUE USING INDEX "+p.D.Quote(ix.tmp))
		} else {
			out = append(out, "ALTER INDEX "+p.D.Table(p.Schema, ix.tmp)+" RENAME TO "+p.D.Quote(ix.orig))
		}
	}
	return out
}

func (op *OpAlterColumn) rollbackDuplicates(p *Planner) {
	var stmts []string
	for _, c := range op.dupCon {
		stmts = append(stmts, p.dropConstraintIfExists(op.physTable, c.tmp))
	}
	if len(stmts) > 0 {
		p.UndoFirst(Action{ID: "drop-copied-constraints", SQL: stmts, Lock: "ACCESS EXCLUSIVE (brief)"})
	}
	for _, ix := range op.dupIdx {
		p.Undo(Action{ID: "drop-index/" + ix.tmp, NoTx: true, SQL: []string{p.D.DropIndex(p.Schema, ix.tmp)}, Lock: "SHARE UPDATE EXCLUSIVE"})
	}
}
