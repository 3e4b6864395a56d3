package expandcontract

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParseBothSpellings(t *testing.T) {
	// v0.14: create_index.columns as a list, replica identity keys capitalised,
	// drop_constraint with column.
	old := mig(t, "old", `
name: "01_old"
operations:
  - create_index: {name: i1, table: t, columns: [a, b]}
  - set_replica_identity: {table: t, identity: {Type: full, Index: ""}}
  - drop_constraint: {table: t, column: a, name: c1, up: a, down: a}`)
	// current: columns as a map with settings, lower-case identity, onComplete.
	cur := mig(t, "cur", `
operations:
  - create_index:
      name: i1
      table: t
      columns:
        a: {sort: desc, nulls: first}
        b: {opclass: {name: text_pattern_ops}}
  - set_replica_identity: {table: t, identity: {type: index, index: i1}}
  - sql: {up: "select 1", onComplete: true}`)
	if old.Name != "01_old" || cur.Name != "cur" {
		t.Errorf("names %q %q", old.Name, cur.Name)
	}
	ci := old.Operations[0].(*OpCreateIndex)
	if len(ci.Columns) != 2 || ci.Columns[1].Name != "b" {
		t.Errorf("list columns %+v", ci.Columns)
	}
	ci = cur.Operations[0].(*OpCreateIndex)
	if ci.Columns[0].Sort != "desc" || ci.Columns[0].Nulls != "first" || ci.Columns[1].Opclass != "text_pattern_ops" {
		t.Errorf("map columns %+v", ci.Columns)
	}
	if ri := old.Operations[1].(*OpSetReplicaIdentity); ri.Type != "full" {
		t.Errorf("replica identity %+v", ri)
	}
	if !cur.Operations[2].(*OpRawSQL).OnComplete {
		t.Error("onComplete not read")
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"operations:\n  - add_colum: {table: t}\n", "m.yaml:2: unknown operation \"add_colum\""},
		{"operations:\n  - add_column:\n      table: t\n      colunm: {name: a, type: int}\n", "m.yaml:4: add_column: unknown key \"colunm\""},
		{"operations:\n  - rename_column: {table: t, from: a}\n", "m.yaml:2: rename_column: \"to\" is required"},
		{"operations:\n  - create_constraint: {name: c, table: t, type: bogus}\n", "m.yaml:2: constraint \"c\": unknown type \"bogus\""},
		{"operations: []\n", "has no operations"},
		{"name: bad name!\noperations: [{drop_table: {name: t}}]\n", "migration name \"bad name!\""},
		{"{\"operations\": [{\"drop_table\": {}}]}", "m.yaml:1: drop_table: \"name\" is required"},
	} {
		_, err := Parse("m.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errkind.ErrUsage) {
			t.Errorf("%q: error %v, want %q (usage)", tc.src, err, tc.want)
		}
	}
}

// goldenSnapshot is a fixed schema so plans are checked without a database.
func goldenSnapshot() *Snapshot {
	def := "nextval('items_id_seq'::regclass)"
	return &Snapshot{Schema: "public", Tables: map[string]*Table{
		"items": {Name: "items", PK: []string{"id"}, ReplicaIdentity: "d", Columns: []*Column{
			{Name: "id", Type: "bigint", NotNull: true, Default: &def},
			{Name: "price", Type: "integer", NotNull: true},
			{Name: "name", Type: "text", NotNull: true},
			{Name: "legacy", Type: "text"},
		}},
	}}
}

// TestPlanGolden renders the plans of testdata/*.yaml against a fixed
// snapshot and compares them with testdata/*.golden (go test -update).
func TestPlanGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.yaml")
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		m, err := ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := NewPlan(Postgres{}, goldenSnapshot(), "public", []*Migration{m})
		if err != nil {
			t.Fatal(err)
		}
		got := renderPlan(plan)
		golden := strings.TrimSuffix(f, ".yaml") + ".golden"
		if *update {
			os.WriteFile(golden, []byte(got), 0o644) //nolint:errcheck
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Errorf("%s: plan differs from %s (go test -update to accept):\n%s", f, golden, got)
		}
	}
}

func renderPlan(p *Plan) string {
	var b strings.Builder
	for _, ph := range []struct {
		n string
		a []Action
	}{{"expand", p.Expand}, {"contract", p.Contract}, {"rollback", p.Rollback}} {
		fmt.Fprintf(&b, "-- %s\n", ph.n)
		for _, a := range ph.a {
			fmt.Fprintf(&b, "-- [%s] lock=%s scans=%v rewrites=%v notx=%v\n", a.ID, a.Lock, a.Scans, a.Rewrites, a.NoTx)
			for _, s := range a.SQL {
				fmt.Fprintf(&b, "%s;\n", s)
			}
			if a.Backfill != nil {
				fmt.Fprintf(&b, "-- backfill %s.%s SET %s\n", a.Backfill.Schema, a.Backfill.Table, a.Backfill.Set)
			}
			if a.Views != nil {
				for _, s := range ViewsSQL(Postgres{}, a.Views) {
					fmt.Fprintf(&b, "%s;\n", s)
				}
			}
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "-- warning: %s\n", w)
	}
	return b.String()
}

// TestPlanRefusals: changes expand/contract cannot do safely are refused
// when planning, before anything runs (exit 2).
func TestPlanRefusals(t *testing.T) {
	snap := goldenSnapshot()
	snap.Tables["lines"] = &Table{Name: "lines", Columns: []*Column{{Name: "item_name", Type: "text"}},
		Constraints: []TableConstraint{{Name: "lines_item_fk", Type: "f", Columns: []string{"item_name"}, RefTable: "items", RefColumns: []string{"name"}}}}
	for _, tc := range []struct{ yaml, want string }{
		{`operations: [{alter_column: {table: items, column: id, nullable: true, up: id, down: id}}]`, "part of the primary key of items: it cannot become nullable"},
		{`operations: [{create_constraint: {table: items, name: c, type: check, check: "length(name) > 0", columns: [name], up: {name: name}, down: {name: name}}}]`, "referenced by foreign key lines.lines_item_fk: change it with alter_column"},
		{`operations: [{drop_column: {table: items, column: name}}]`, "referenced by foreign key"},
		{`operations: [{alter_column: {table: items, column: price, type: bigint}}, {alter_column: {table: items, column: price, nullable: true}}]`, "alter it in a later deploy"},
		{`operations: [{add_column: {table: items, column: {name: x, type: int}}}]`, "NOT NULL without a default: give it an up expression"},
		{`operations: [{add_column: {table: nope, column: {name: x, type: int, nullable: true}}}]`, `table "nope" does not exist`},
		{`operations: [{rename_column: {table: items, from: price, to: name}}]`, `column "name" already exists`},
	} {
		m, err := Parse("m.yaml", []byte(tc.yaml))
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewPlan(Postgres{}, snap, "public", []*Migration{m})
		if err == nil || !strings.Contains(err.Error(), tc.want) || errkind.ExitCode(err) != errkind.ExitUsage {
			t.Errorf("%s: error %v, want %q (exit 2)", tc.yaml, err, tc.want)
		}
	}
}

// TestRawSQLWarnings: raw sql that rewrites or scans under lock is flagged.
func TestRawSQLWarnings(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		warn bool
	}{
		{"ALTER TABLE items ALTER COLUMN price TYPE bigint", true},
		{"VACUUM FULL items", true},
		{"ALTER TABLE items ADD COLUMN u uuid DEFAULT gen_random_uuid()", true},
		{"ALTER TABLE items ALTER COLUMN name SET NOT NULL", true},
		{"ALTER TABLE items ADD CONSTRAINT c CHECK (price > 0)", true},
		{"ALTER TABLE items ADD CONSTRAINT c CHECK (price > 0) NOT VALID", false},
		{"CREATE INDEX customers_idx ON items (name)", true},
		{"CREATE INDEX CONCURRENTLY items_idx ON items (name)", false},
		{"CREATE TABLE audit (id int)", false},
	} {
		m, err := Parse("m.yaml", []byte("operations: [{sql: {up: \""+tc.sql+"\"}}]"))
		if err != nil {
			t.Fatal(err)
		}
		plan, err := NewPlan(Postgres{}, goldenSnapshot(), "public", []*Migration{m})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(plan.Warnings) > 0; got != tc.warn {
			t.Errorf("%s: warnings %v, want a warning: %v", tc.sql, plan.Warnings, tc.warn)
		}
	}
}
