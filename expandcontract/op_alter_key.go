package expandcontract

import "strings"

// alter_column of key columns (primary key, referenced by a foreign key;
// see keys.go) and of columns fed by a sequence (serial, identity).

// checkKey refuses the key changes tidemark cannot plan and marks op.key.
func (op *OpAlterColumn) checkKey(p *Planner, t *tableModel, c *colModel) error {
	st := p.snap.Tables[t.Physical]
	pk := st != nil && contains(st.PK, c.Physical)
	fk := p.snap.referencedBy(t.Physical, c.Physical)
	op.key = pk || fk != ""
	if op.old.Identity != "" && op.Nullable != nil && *op.Nullable {
		return errUsage("column %q of %q is an identity column: it cannot become nullable", op.Column, op.Table)
	}
	if ext := p.snap.externalRef(t.Physical, c.Physical); ext != "" {
		return errUsage("column %q of %q is referenced by foreign key %s of another schema: drop it before this change and re-create it after contract", op.Column, op.Table, ext)
	}
	if !op.key {
		return nil
	}
	what := "is referenced by foreign key " + fk
	if pk {
		what = "is part of the primary key of " + op.Table
	}
	if _, ok := p.D.(Postgres); !ok {
		return errUsage("column %q of %q %s: changing it is not supported on this database", op.Column, op.Table, what)
	}
	if op.force {
		return errUsage("column %q of %q %s: change it with alter_column (constraints on key columns with up/down are not supported)", op.Column, op.Table, what)
	}
	if !p.dupPlanned[t.Physical+"."+c.Physical] {
		return errUsage("column %q of %q %s: alter it under the table's name before this version (%q), or in another deploy", op.Column, op.Table, what, t.Physical)
	}
	if pk && op.Nullable != nil && *op.Nullable {
		return errUsage("column %q %s: it cannot become nullable", op.Column, what)
	}
	if fk != "" && op.Up != "" && strings.TrimSpace(op.Up) != op.Column && strings.TrimSpace(op.Up) != p.D.Quote(op.Column) {
		p.Warn("column %q %s: up must keep the values the referencing rows hold, or validating the foreign keys at contract fails", op.Column, what)
	}
	return nil
}

// newTypeDefault is the new column's type and default. A column fed by a
// sequence keeps it (the new column draws from the same sequence; for an
// identity column, through nextval until contract makes it identity again),
// and serial types name the plain integer type (the sequence exists).
func (op *OpAlterColumn) newTypeDefault() (string, *string) {
	typ := op.old.Type
	if op.Type != "" {
		typ = op.Type
	}
	fed := op.old.Identity != "" || isNextval(op.old.Default)
	if fed {
		if it, ok := serialTypes[strings.ToLower(strings.TrimSpace(typ))]; ok {
			typ = it
		}
	}
	switch {
	case op.HasDefault:
		return typ, op.Default
	case op.old.Identity != "" && op.old.Sequence != "":
		s := "nextval(" + literal(op.old.Sequence) + "::regclass)"
		return typ, &s
	case op.Type != "" && op.Type != op.old.Type && !fed:
		return typ, nil
	}
	return typ, op.old.Default
}

var serialTypes = map[string]string{"serial": "integer", "serial4": "integer", "bigserial": "bigint", "serial8": "bigint", "smallserial": "smallint", "serial2": "smallint"}

var intTypes = map[string]string{"smallint": "smallint", "int2": "smallint", "integer": "integer", "int": "integer", "int4": "integer", "bigint": "bigint", "int8": "bigint"}

func isNextval(def *string) bool { return def != nil && strings.HasPrefix(*def, "nextval(") }

// identity: the identity column is rebuilt at contract (its sequence goes
// with the old column); ownedSeq: a serial's sequence moves to the new column.
func (op *OpAlterColumn) identity() bool {
	return op.old.Identity != "" && op.old.Sequence != "" && !op.HasDefault
}
func (op *OpAlterColumn) ownedSeq() bool {
	return op.old.Identity == "" && op.old.Sequence != "" && !op.HasDefault
}

const identityNext = "tidemark.identity_next"

// beforeDrop: the swap statements before the old column is dropped.
func (op *OpAlterColumn) beforeDrop(p *Planner) []string {
	d := p.D
	tbl := d.Table(p.Schema, op.physTable)
	var out []string
	switch {
	case op.identity():
		// remember where the sequence is; the new column's nextval default
		// depends on the sequence, which dropping the old column drops
		out = append(out, "SELECT set_config('"+identityNext+"', coalesce(pg_sequence_last_value("+literal(op.old.Sequence)+"::regclass)::text, ''), true)",
			"ALTER TABLE "+tbl+" ALTER COLUMN "+d.Quote(op.phys)+" DROP DEFAULT")
	case op.ownedSeq():
		out = append(out, "ALTER SEQUENCE "+op.old.Sequence+" OWNED BY "+tbl+"."+d.Quote(op.phys))
	}
	if op.key {
		out = append(out, p.dropReferencingFKs(op.physTable, op.old.Name)...)
	}
	return out
}

// afterRename: the swap statements once the new column has its final name.
func (op *OpAlterColumn) afterRename(p *Planner) []string {
	d := p.D
	tbl := d.Table(p.Schema, op.physTable)
	typ, _ := op.newTypeDefault()
	switch {
	case op.identity():
		kind := "BY DEFAULT"
		if op.old.Identity == "a" {
			kind = "ALWAYS"
		}
		return []string{"ALTER TABLE " + tbl + " ALTER COLUMN " + d.Quote(op.final) + " ADD GENERATED " + kind + " AS IDENTITY",
			"SELECT setval(pg_get_serial_sequence(" + literal(tbl) + ", " + literal(op.final) + "), v, true) FROM (SELECT nullif(current_setting('" +
				identityNext + "'), '')::bigint) s(v) WHERE v IS NOT NULL"}
	case op.ownedSeq():
		if it, ok := intTypes[strings.ToLower(strings.TrimSpace(typ))]; ok && it != intTypes[op.old.Type] {
			return []string{"ALTER SEQUENCE " + op.old.Sequence + " AS " + it}
		}
	}
	return nil
}
