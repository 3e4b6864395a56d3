package reconcile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

var okEnv = envOf(map[string]string{"PG": "postgres://u:secret@localhost/db", "MG": "mongodb://localhost/inv"})

func TestBadRulesGiveFileLineErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"unknown top key", "sources: {}\ninvariant: []\n", `r.yaml:2: rules: unknown key "invariant"`},
		{"untyped key", "sources:\n  a:\n    database: ${PG}\n    sql: SELECT 1\n    key: [id]\n", `r.yaml:5: source "a": key "id": give the type as name:type`},
		{"bad key type", "sources:\n  a:\n    database: ${PG}\n    sql: SELECT 1\n    key: id:float\n", `r.yaml:5: source "a": key "id:float": unknown type "float"`},
		{"unset env", "sources:\n  a:\n    database: ${NOPE}\n", `r.yaml:3: source "a": database: environment variable NOPE is not set`},
		{"sql on mongo", "sources:\n  a:\n    database: ${MG}\n    sql: SELECT 1\n    key: id:int\n", `r.yaml:4: source "a": a MongoDB source takes collection`},
		{"not a select", "sources:\n  a:\n    database: ${PG}\n    sql: DELETE FROM t\n    key: id:int\n", `r.yaml:4: source "a": sql must be a SELECT`},
		{"unknown source", src2 + "invariants:\n  - name: x\n    exists: {left: a, right: zz}\n", `r.yaml:7: invariant "x": right: unknown source "zz"`},
		{"two kinds", src2 + "invariants:\n  - name: x\n    exists: {left: a, right: b}\n    not_exists: {left: a, right: b}\n", `r.yaml:8: invariant "x": one of match`},
		{"key mismatch", src2 + "invariants:\n  - name: x\n    exists: {left: a, right: c}\n", `invariant "x": key column 1 is int in "a" but text in "c"`},
		{"bad field type", src2 + "invariants:\n  - name: x\n    match:\n      left: a\n      right: b\n      fields: [{name: f, type: float}]\n", `r.yaml:10: invariant "x": field "f": unknown type "float"`},
		{"bad tolerance", src2 + "invariants:\n  - name: x\n    match:\n      left: a\n      right: b\n      fields: [{name: f, type: timestamp, tolerance: soon}]\n", `invariant "x": field "f": tolerance: want a duration`},
		{"fixup kind", src2 + "invariants:\n  - name: x\n    exists: {left: a, right: b}\n    fixups:\n      mismatch: {sql: {on: a, statement: x}}\n", `r.yaml:9: invariant "x": fixups: unknown key "mismatch" (want one of missing)`},
		{"fixup on unknown", src2 + "invariants:\n  - name: x\n    exists: {left: a, right: b}\n    fixups:\n      missing: {sql: {on: q, statement: x}}\n", `invariant "x": fixup missing: on: unknown source "q"`},
		{"aggregate without sum", src2 + "invariants:\n  - name: x\n    aggregate: {left: {source: a, field: n}, right: {source: b}}\n", `invariant "x": right needs sum: COLUMN or count: true`},
		{"yaml syntax", "sources: [\n", `r.yaml: yaml:`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseRulesEnv(strings.NewReader(c.yaml), "r.yaml", okEnv)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrRules) || errkind.ExitCode(err) != errkind.ExitUsage {
				t.Errorf("error kind: %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%v\nwant it to contain\n%s", err, c.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("password in error: %v", err)
			}
		})
	}
}

const src2 = `sources:
  a: {database: "${PG}", sql: SELECT 1, key: "id:int"}
  b: {database: "${PG}", sql: SELECT 1, key: "id:int"}
  c: {database: "${MG}", collection: c, key: "id:text"}
`

func TestShopRulesParse(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRulesEnv(strings.NewReader(string(data)), "shop.yaml", envOf(map[string]string{
		"ORDERS_URL": "postgres://a@h/o", "PAYMENTS_URL": "postgres://a@h/p", "INVENTORY_URL": "mongodb://h/i", "EVENTS_FILE": "/tmp/e.jsonl"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sources) != 9 || len(r.Invariants) != 7 {
		t.Fatalf("%d sources, %d invariants", len(r.Sources), len(r.Invariants))
	}
	f := r.Invariants[0].Fields[0]
	if f.Type != FieldMoney || f.RightUnit != "major" || f.LeftUnit != "minor" || f.Scale != 2 {
		t.Errorf("money field: %+v", f)
	}
}

// The example in the README parses.
func TestReadmeExampleParses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, found := strings.Cut(string(data), "## Reconciliation")
	if !found {
		t.Fatal("README has no Reconciliation section")
	}
	_, block, ok := strings.Cut(section, "```yaml\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block")
	}
	r, err := ParseRulesEnv(strings.NewReader(block), "README", envOf(map[string]string{
		"ORDERS_URL": "postgres://a@h/o", "PAYMENTS_URL": "postgres://a@h/p", "INVENTORY_URL": "mongodb://h/i", "EVENTS_FILE": "/tmp/e.jsonl"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Invariants) != 6 {
		t.Errorf("%d invariants", len(r.Invariants))
	}
}
