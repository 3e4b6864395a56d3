package expandcontract

import (
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

// TestCockroachSwapResumesOnPostgres: the one-statement-per-transaction
// swap can be run again after an interruption; renames already done are
// skipped, other errors are not.
func TestCockroachSwapResumesOnPostgres(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	c := ctx(t)
	mustExec(t, pool, `CREATE TABLE items (id bigint PRIMARY KEY, price int, _tm_new_price numeric(10,2));
		INSERT INTO items VALUES (1, 100, 1.00)`)
	d := Cockroach{noJobWaits: true}
	swap := Action{ID: "swap/items", SQL: []string{
		`ALTER TABLE "public"."items" DROP COLUMN IF EXISTS "price"`,
		`ALTER TABLE "public"."items" RENAME COLUMN "_tm_new_price" TO "price"`,
		`ALTER TABLE "public"."items" ALTER COLUMN "price" SET NOT NULL`,
	}}
	half := Action{ID: swap.ID, SQL: swap.SQL[:2]} // killed after the rename
	for i, a := range []Action{half, swap, swap} {
		if err := d.runSwap(c, pool, a); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
	if got := queryText(t, pool, `SELECT price::text FROM items`); got != "1.00" {
		t.Fatalf("price after swap: %s", got)
	}
	bad := Action{ID: "swap/items", SQL: []string{`ALTER TABLE "public"."items" RENAME COLUMN "nope" TO "other"`}}
	if err := d.runSwap(c, pool, bad); err == nil {
		t.Fatalf("a rename of a missing column to a missing name must fail")
	}
}
