package expandcontract

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func strp(s string) *string { return &s }

// crdbSnapshot is the schema every golden plan starts from.
func crdbSnapshot() *Snapshot {
	col := func(n, typ string, notNull bool) *Column { return &Column{Name: n, Type: typ, NotNull: notNull} }
	return &Snapshot{Schema: "public", Tables: map[string]*Table{
		"items": {Name: "items", PK: []string{"id"}, ReplicaIdentity: "d", Columns: []*Column{
			{Name: "id", Type: "bigint", NotNull: true, Default: strp("unique_rowid()")},
			col("price", "integer", true), col("name", "text", false), col("legacy", "text", false),
			col("email", "text", false), col("team", "integer", false)}},
		"teams": {Name: "teams", PK: []string{"id"}, ReplicaIdentity: "d", Columns: []*Column{
			col("id", "integer", true), col("label", "text", false)}},
	}}
}

var (
	crdbWithTriggers = Cockroach{Version: CockroachVersion{Major: 24, Minor: 3, Patch: 1}}
	crdbNoTriggers   = Cockroach{Version: CockroachVersion{Major: 23, Minor: 2, Patch: 9}}
)

func crdbPlan(t *testing.T, d Dialect, file string) *Plan {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(d, crdbSnapshot(), "public", []*Migration{m})
	if err != nil {
		t.Fatalf("plan %s: %v", file, err)
	}
	return p
}

// TestCockroachGolden renders every statement of the CockroachDB plan of
// each operation, with and without triggers (go test -run TestCockroachGolden -update;
// the -update flag is declared in parse_test.go).
func TestCockroachGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/cockroach/*.yaml")
	if len(files) < 14 {
		t.Fatalf("want a migration per operation, found %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			var b bytes.Buffer
			for _, d := range []Cockroach{crdbWithTriggers, crdbNoTriggers} {
				mode := "sync triggers"
				if !d.Triggers() {
					mode = "no triggers: dual-write contract"
				}
				b.WriteString("-- ==== CockroachDB " + d.Version.String() + " (" + mode + ") ====\n")
				WritePlanSQL(&b, d, crdbPlan(t, d, f))
				b.WriteString("\n")
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("plan differs from %s (run with -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

// TestCockroachPlanDifferences asserts what the CockroachDB plans change
// against the PostgreSQL ones, for every operation.
func TestCockroachPlanDifferences(t *testing.T) {
	files, _ := filepath.Glob("testdata/cockroach/*.yaml")
	for _, f := range files {
		for _, d := range []Cockroach{crdbWithTriggers, crdbNoTriggers} {
			p := crdbPlan(t, d, f)
			for _, phase := range [][]Action{p.Expand, p.Contract, p.Rollback} {
				for i, a := range phase {
					for _, s := range a.SQL {
						if strings.Contains(s, "CONCURRENTLY") {
							t.Errorf("%s %s: CONCURRENTLY on CockroachDB: %s", f, a.ID, s)
						}
						if !d.Triggers() && strings.Contains(s, "TRIGGER") {
							t.Errorf("%s %s: trigger statement without triggers: %s", f, a.ID, s)
						}
						if strings.Contains(s, "%TYPE") {
							t.Errorf("%s %s: %%TYPE is not supported by CockroachDB: %s", f, a.ID, s)
						}
					}
					if a.Index != "" {
						t.Errorf("%s %s: INVALID-index check on CockroachDB", f, a.ID)
					}
					if strings.HasPrefix(a.Lock, "online schema change") && len(jobTables("public", a.SQL)) > 0 &&
						(i+1 == len(phase) || phase[i+1].ID != a.ID+"/wait-jobs") {
						t.Errorf("%s %s: DDL not followed by a job wait", f, a.ID)
					}
				}
			}
		}
	}
}

func TestCockroachDualWrite(t *testing.T) {
	with := crdbPlan(t, crdbWithTriggers, "testdata/cockroach/alter_column.yaml")
	without := crdbPlan(t, crdbNoTriggers, "testdata/cockroach/alter_column.yaml")
	if !hasAction(with.Expand, "sync/items") || hasAction(with.Expand, "dual-write/items") {
		t.Errorf("v24.3 must use the sync trigger")
	}
	if hasAction(without.Expand, "sync/items") || !hasAction(without.Expand, "dual-write/items") {
		t.Fatalf("v23.2 must use the dual-write contract")
	}
	if len(without.Contract) < 2 || without.Contract[0].ID != "catchup/items" || without.Contract[1].ID != "verify/items" {
		t.Errorf("contract must start with the catch-up backfill and its verification, got %s, %s", without.Contract[0].ID, without.Contract[1].ID)
	}
	if len(without.Verify) != 0 {
		t.Errorf("the pre-contract verify must move after the catch-up")
	}
	for _, a := range without.Expand {
		if strings.HasSuffix(a.ID, "/constraints") || strings.Contains(a.ID, "/index/_tm_uq_") {
			t.Errorf("%s: new-column constraints would break old-version writes without triggers", a.ID)
		}
	}
	note := actionByID(without.Expand, "dual-write/items").Warning
	if !strings.Contains(note, "_tm_old_price = ((price * 100)::int)") {
		t.Errorf("dual-write note must name what the new version writes: %s", note)
	}
	if !strings.Contains(strings.Join(without.Warnings, "\n"), "dual-write contract") {
		t.Errorf("plan must warn about the dual-write contract: %v", without.Warnings)
	}
	add := crdbPlan(t, crdbNoTriggers, "testdata/cockroach/add_column.yaml")
	if b := actionByID(add.Contract, "catchup/items").Backfill; b == nil || !strings.Contains(b.Set, `COALESCE("_tm_new_label"`) {
		t.Errorf("an added column is only filled where the new version left it NULL: %+v", b)
	}
}

func TestParseCockroachVersion(t *testing.T) {
	for in, want := range map[string]string{
		"CockroachDB CCL v24.3.1 (x86_64-pc-linux-gnu, built 2024/12/05 00:00:00, go1.22.8 X:nocoverageredesign)": "v24.3.1",
		"CockroachDB OSS v23.2.0-rc.1 (aarch64-unknown-linux-gnu)":                                                "v23.2.0",
		"CockroachDB CCL v25.1 (x86_64)":                                                                          "v25.1.0",
	} {
		v, err := ParseCockroachVersion(in)
		if err != nil || v.String() != want {
			t.Errorf("%q: got %s %v, want %s", in, v, err, want)
		}
	}
	if _, err := ParseCockroachVersion("PostgreSQL 17.2 on x86_64-pc-linux-gnu"); !errors.Is(err, ErrNotCockroach) {
		t.Errorf("PostgreSQL must be refused: %v", err)
	}
	for v, want := range map[CockroachVersion]bool{{Major: 24, Minor: 2}: false, {Major: 24, Minor: 3}: true, {Major: 25}: true, {Major: 23, Minor: 9}: false, {}: false} {
		if v.Triggers() != want {
			t.Errorf("%s: triggers %v, want %v", v, v.Triggers(), want)
		}
	}
}

func hasAction(as []Action, id string) bool { return actionByID(as, id).ID != "" }

func actionByID(as []Action, id string) Action {
	for _, a := range as {
		if a.ID == id {
			return a
		}
	}
	return Action{}
}

// Views are dropped before the first swap and rebuilt last (CockroachDB
// refuses to rename or drop a column a view uses).
func TestCockroachContractViews(t *testing.T) {
	p := crdbPlan(t, crdbWithTriggers, "testdata/cockroach/alter_column.yaml")
	drop, swap := -1, -1
	for i, a := range p.Contract {
		switch a.ID {
		case "version/views-drop":
			drop = i
		case "swap/items":
			swap = i
		}
	}
	last := p.Contract[len(p.Contract)-1]
	if drop < 0 || swap < drop || last.ID != "version/views-final" || last.Views == nil {
		t.Fatalf("views-drop at %d, swap at %d, last action %s", drop, swap, last.ID)
	}
	for _, vt := range last.Views.Tables {
		for _, c := range vt.Columns {
			if c[0] != c[1] || strings.HasPrefix(c[0], "_tm_") {
				t.Errorf("final view %s shows %v", vt.Name, c)
			}
		}
	}
}
