package expandcontract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

// A new column's reference that cannot be rendered (its second column does
// not exist) is only a warning and adds no constraint; it must not count as
// a reference to its first column either: with that column's key changing in
// the same version, the plan is not refused for a reference it never adds,
// and the contract does not validate (nor the rollback drop) it.
// The same reference without the bad column is refused.
func TestBadMultiColumnReferenceRecordsNoTarget(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	mustExec(t, pool, `CREATE TABLE users (id int PRIMARY KEY, name text); CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id))`)
	const keyChange = `{alter_column: {table: users, column: id, type: bigint}}`
	plan, err := PlanExpand(ctx(t), pool, []*Migration{mig(t, "m1", `operations: [`+keyChange+`,
		{add_column: {table: orders, column: {name: u2, type: bigint, nullable: true, references: {name: o_u2, table: users, columns: [id, nope]}}}}]`)}, Options{})
	if err != nil {
		t.Fatalf("a reference that is dropped with a warning refused the plan: %v", err)
	}
	if w := strings.Join(plan.Warnings, "\n"); !strings.Contains(w, `referenced column "nope" does not exist in "users"`) {
		t.Errorf("warnings: %q", plan.Warnings)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `o_u2`) {
		t.Errorf("the plan adds, validates or drops the bad reference: %s", b)
	}

	_, err = PlanExpand(ctx(t), pool, []*Migration{mig(t, "m1", `operations: [`+keyChange+`,
		{add_column: {table: orders, column: {name: u2, type: bigint, nullable: true, references: {name: o_u2, table: users, columns: [id]}}}}]`)}, Options{})
	if err == nil || !strings.Contains(err.Error(), "references users.id, which this version changes") {
		t.Fatalf("a valid reference to the changing key: %v", err)
	}
}
