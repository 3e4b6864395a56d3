package expandcontract

import (
	"strings"
	"testing"
)

const keyCrashSetup = `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), total int);
INSERT INTO users (name) SELECT 'u' || g FROM generate_series(1, 1000) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 1000, g FROM generate_series(1, 1500) g;`

const keyCrashMigration = `
operations:
  - alter_column: {table: users, column: id, type: bigint}
  - alter_column: {table: orders, column: user_id, type: bigint}
  - alter_column: {table: orders, column: id, type: bigint}
`

// TestCrashResumeKeys kills tidemark after every action that moves a key
// (the primary key index builds, every contract and rollback action) and
// checks that the same command again finishes the job.
func TestCrashResumeKeys(t *testing.T) {
	bin := buildCLI(t)
	plan := crashPlan(t, keyCrashSetup, keyCrashMigration)
	var points []string
	for _, a := range plan.Expand {
		if strings.HasPrefix(a.ID, "keys/") {
			points = append(points, "expand:"+a.ID, "expand:"+a.ID+"/unrecorded")
		}
	}
	for _, ph := range []struct {
		n string
		a []Action
	}{{"contract", plan.Contract}, {"rollback", plan.Rollback}} {
		for _, a := range ph.a {
			points = append(points, ph.n+":"+a.ID)
			if a.NoTx {
				points = append(points, ph.n+":"+a.ID+"/unrecorded")
			}
		}
	}
	if len(points) < 10 {
		t.Fatalf("only %d crash points: %v", len(points), points)
	}
	runCrashCases(t, points, func(t *testing.T, p, end string) { keyCrashCase(t, bin, p, end) })
}

func keyCrashCase(t *testing.T, bin, point, end string) {
	t.Parallel()
	r, h, expandArgs := newCrashCase(t, bin, keyCrashSetup, keyCrashMigration)
	if strings.HasPrefix(point, "expand:") {
		r.run(point, expandArgs...)
		if end == "contract" {
			r.run("", expandArgs...)
		}
	} else {
		r.run("", expandArgs...)
	}
	u := h.on("old", `INSERT INTO users (name) VALUES ('late') RETURNING id`)
	h.on("old", `INSERT INTO orders (user_id, total) VALUES (`+u+`, 0)`)
	if !strings.HasPrefix(point, "expand:") {
		r.run(point, end)
	}
	r.run("", end)
	h.noLeftovers()
	h.eq("old", `SELECT count(*) || ' ' || count(DISTINCT id) FROM users`, "1001 1001")
	h.eq("old", `SELECT count(*) || ' ' || count(DISTINCT id) FROM orders`, "1501 1501")
	h.eq("old", `SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL`, "0")
	h.eq("raw", `SELECT string_agg(conname || ':' || contype::text || ':' || convalidated::text, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'orders'::regclass)`,
		"orders_pkey:p:true,orders_user_id_fkey:f:true,users_pkey:p:true")
	want := "bigint"
	if end == "rollback" {
		want = "integer"
		h.eq("raw", `SELECT count(*) FROM pg_namespace WHERE nspname = 'public_m1'`, "0")
	}
	h.eq("raw", `SELECT string_agg(DISTINCT format_type(atttypid, atttypmod), ',') FROM pg_attribute WHERE attrelid IN ('users'::regclass, 'orders'::regclass) AND attname IN ('id', 'user_id') AND NOT attisdropped`, want)
	h.eq("raw", `SELECT attidentity::text FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id' AND NOT attisdropped`, "a")
	h.on("old", `INSERT INTO orders (user_id, total) VALUES (1, -1)`)
	h.fails("old", `INSERT INTO orders (user_id, total) VALUES (99999999, -1)`, "orders_user_id_fkey")
}
