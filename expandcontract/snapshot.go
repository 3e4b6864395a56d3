package expandcontract

import (
	"context"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Snapshot is the shape of a schema's tables when an expand started. Plans
// are computed from it (never from the live catalog), so a resumed run plans
// exactly the same actions with the same IDs.
type Snapshot struct {
	Schema string            `json:"schema"`
	Tables map[string]*Table `json:"tables"`
}

// Table is one table of a Snapshot.
type Table struct {
	Name            string            `json:"name"`
	Columns         []*Column         `json:"columns"`
	PK              []string          `json:"pk,omitempty"`
	ReplicaIdentity string            `json:"replica_identity"` // d, n, f or i
	ReplicaIndex    string            `json:"replica_index,omitempty"`
	Comment         *string           `json:"comment,omitempty"`
	Indexes         []Index           `json:"indexes,omitempty"`
	Constraints     []TableConstraint `json:"constraints,omitempty"`
	// ExternalRefs are foreign keys of tables in other schemas referencing
	// this one (Name is "schema.table.constraint").
	ExternalRefs []TableConstraint `json:"external_refs,omitempty"`
}

// Index is an index of a Table (plain column indexes; Columns empty for
// expression-only indexes).
type Index struct {
	Name       string   `json:"name"`
	Def        string   `json:"def"`
	Columns    []string `json:"columns"`
	Unique     bool     `json:"unique,omitempty"`
	Primary    bool     `json:"primary,omitempty"`
	Constraint string   `json:"constraint,omitempty"` // the constraint it backs
}

// TableConstraint is a CHECK ("c") or FOREIGN KEY ("f") constraint of a Table.
type TableConstraint struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Def     string   `json:"def"`
	Columns []string `json:"columns"`
	// RefTable and RefColumns: what a foreign key references.
	RefTable   string   `json:"ref_table,omitempty"`
	RefColumns []string `json:"ref_columns,omitempty"`
}

// Column is one column of a Table.
type Column struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	NotNull bool    `json:"not_null"`
	Default *string `json:"default,omitempty"`
	Comment *string `json:"comment,omitempty"`
	// Identity is attidentity: "a" (ALWAYS), "d" (BY DEFAULT) or "".
	Identity string `json:"identity,omitempty"`
	// Sequence is the sequence the column owns (serial or identity),
	// schema-qualified and quoted as pg_get_serial_sequence returns it.
	Sequence string `json:"sequence,omitempty"`
}

func (t *Table) column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// LoadSnapshot reads the tables of schema from the catalog.
func LoadSnapshot(ctx context.Context, q querier, schema string) (*Snapshot, error) {
	s := &Snapshot{Schema: schema, Tables: map[string]*Table{}}
	rows, err := q.Query(ctx, `
SELECT c.relname, c.relreplident::text, obj_description(c.oid, 'pg_class'),
       coalesce((SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                 WHERE x.indrelid = c.oid AND x.indisreplident), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname`, schema)
	if err != nil {
		return nil, fmt.Errorf("load tables: %w", err)
	}
	for rows.Next() {
		t := &Table{}
		if err := rows.Scan(&t.Name, &t.ReplicaIdentity, &t.Comment, &t.ReplicaIndex); err != nil {
			return nil, err
		}
		s.Tables[t.Name] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load tables: %w", err)
	}
	if err := loadColumns(ctx, q, s); err != nil {
		return nil, err
	}
	if err := loadPKs(ctx, q, s); err != nil {
		return nil, err
	}
	if err := loadIndexes(ctx, q, s); err != nil {
		return nil, err
	}
	if err := loadConstraints(ctx, q, s); err != nil {
		return nil, err
	}
	return s, loadExternalRefs(ctx, q, s)
}

func loadExternalRefs(ctx context.Context, q querier, s *Snapshot) error {
	rows, err := q.Query(ctx, `
SELECT r.relname, quote_ident(cn.nspname) || '.' || quote_ident(c.relname) || '.' || quote_ident(con.conname),
       array(SELECT a.attname::text FROM unnest(con.confkey) k JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k)
FROM pg_constraint con JOIN pg_class r ON r.oid = con.confrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace
WHERE con.contype = 'f' AND rn.nspname = $1 AND cn.nspname <> $1 ORDER BY 2`, s.Schema)
	if err != nil {
		return fmt.Errorf("load foreign keys from other schemas: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn string
		tc := TableConstraint{Type: "f"}
		if err := rows.Scan(&tn, &tc.Name, &tc.RefColumns); err != nil {
			return fmt.Errorf("load foreign keys from other schemas: %w", err)
		}
		if t := s.Tables[tn]; t != nil {
			t.ExternalRefs = append(t.ExternalRefs, tc)
		}
	}
	return rows.Err()
}

func loadIndexes(ctx context.Context, q querier, s *Snapshot) error {
	rows, err := q.Query(ctx, `
SELECT c.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisunique, x.indisprimary,
       coalesce((SELECT con.conname FROM pg_constraint con WHERE con.conindid = x.indexrelid AND con.conrelid = c.oid LIMIT 1), ''),
       array(SELECT a.attname::text FROM unnest(x.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n ORDER BY k.o)
FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 ORDER BY c.relname, i.relname`, s.Schema)
	if err != nil {
		return fmt.Errorf("load indexes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn string
		var ix Index
		if err := rows.Scan(&tn, &ix.Name, &ix.Def, &ix.Unique, &ix.Primary, &ix.Constraint, &ix.Columns); err != nil {
			return fmt.Errorf("load indexes: %w", err)
		}
		if t := s.Tables[tn]; t != nil {
			t.Indexes = append(t.Indexes, ix)
		}
	}
	return rows.Err()
}

func loadConstraints(ctx context.Context, q querier, s *Snapshot) error {
	rows, err := q.Query(ctx, `
SELECT c.relname, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
       array(SELECT a.attname::text FROM unnest(con.conkey) k JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k),
       coalesce((SELECT r.relname FROM pg_class r WHERE r.oid = con.confrelid), ''),
       array(SELECT a.attname::text FROM unnest(coalesce(con.confkey, '{}')) k JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k)
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND con.contype IN ('c', 'f') ORDER BY c.relname, con.conname`, s.Schema)
	if err != nil {
		return fmt.Errorf("load constraints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn string
		var tc TableConstraint
		if err := rows.Scan(&tn, &tc.Name, &tc.Type, &tc.Def, &tc.Columns, &tc.RefTable, &tc.RefColumns); err != nil {
			return fmt.Errorf("load constraints: %w", err)
		}
		if t := s.Tables[tn]; t != nil {
			t.Constraints = append(t.Constraints, tc)
		}
	}
	return rows.Err()
}

func loadColumns(ctx context.Context, q querier, s *Snapshot) error {
	rows, err := q.Query(ctx, `
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum), a.attidentity::text,
       coalesce(CASE WHEN a.attidentity <> '' OR d.adbin IS NOT NULL
         THEN pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) END, '')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum`, s.Schema)
	if err != nil {
		return fmt.Errorf("load columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn string
		c := &Column{}
		if err := rows.Scan(&tn, &c.Name, &c.Type, &c.NotNull, &c.Default, &c.Comment, &c.Identity, &c.Sequence); err != nil {
			return fmt.Errorf("load columns: %w", err)
		}
		if t := s.Tables[tn]; t != nil {
			t.Columns = append(t.Columns, c)
		}
	}
	return rows.Err()
}

func loadPKs(ctx context.Context, q querier, s *Snapshot) error {
	rows, err := q.Query(ctx, `
SELECT c.relname, a.attname FROM pg_index x
JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord) ON true
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE n.nspname = $1 AND x.indisprimary ORDER BY c.relname, k.ord`, s.Schema)
	if err != nil {
		return fmt.Errorf("load primary keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tn, col string
		if err := rows.Scan(&tn, &col); err != nil {
			return err
		}
		if t := s.Tables[tn]; t != nil {
			t.PK = append(t.PK, col)
		}
	}
	return rows.Err()
}

// referencedBy names a foreign key that references table.col, if any.
func (s *Snapshot) referencedBy(table, col string) string {
	if fks := s.referencing(table, col); len(fks) > 0 {
		return fks[0].Table + "." + fks[0].Name
	}
	return ""
}

// externalRef names a foreign key of another schema referencing table.col.
func (s *Snapshot) externalRef(table, col string) string {
	if t := s.Tables[table]; t != nil {
		for _, c := range t.ExternalRefs {
			if contains(c.RefColumns, col) {
				return c.Name
			}
		}
	}
	return ""
}

// fkRef is a foreign key of Table.
type fkRef struct {
	Table string
	TableConstraint
}

// referencing lists the foreign keys that reference table.col, ordered by
// table and name (plans must not depend on map order).
func (s *Snapshot) referencing(table, col string) []fkRef {
	var out []fkRef
	for _, t := range s.Tables {
		for _, c := range t.Constraints {
			if c.Type == "f" && c.RefTable == table && contains(c.RefColumns, col) {
				out = append(out, fkRef{t.Name, c})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Name < out[j].Name
	})
	return out
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
