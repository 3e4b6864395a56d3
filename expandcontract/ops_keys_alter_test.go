package expandcontract

import (
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

// alter_column of primary key columns (serial, identity, multi-column) and
// of columns other tables' foreign keys reference.
func TestAlterKeyColumns(t *testing.T) {
	const orphans = `SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL`
	const fkSetup = `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
		CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id) ON DELETE CASCADE, total int);
		INSERT INTO users (name) SELECT 'u' || g FROM generate_series(1, 2000) g;
		INSERT INTO orders (user_id, total) SELECT 1 + g % 2000, g FROM generate_series(1, 3000) g;`
	runOpCases(t, []opCase{{
		name: "serial_pk_to_bigint",
		setup: `CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);
			INSERT INTO items (name) SELECT 'i' || g FROM generate_series(1, 3000) g;`,
		migration: `operations: [{alter_column: {table: items, column: id, type: bigint}}]`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT pg_typeof(id)::text FROM items LIMIT 1`, "bigint")
			h.eq("old", `SELECT pg_typeof(id)::text FROM items LIMIT 1`, "integer")
			n := h.on("new", `INSERT INTO items (name) VALUES ('from-new') RETURNING id`)
			h.eq("old", `SELECT name FROM items WHERE id = `+n, "from-new")
			o := h.on("old", `INSERT INTO items (name) VALUES ('from-old') RETURNING id`)
			h.eq("new", `SELECT name FROM items WHERE id = `+o, "from-old")
			h.fails("new", `INSERT INTO items (id, name) VALUES (1, 'dup')`, "duplicate key")
			h.eq("new", `SELECT count(*) FROM items`, "3002")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'items_pkey'`, "PRIMARY KEY (id)")
			h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'id'`, "bigint")
			h.eq("raw", `SELECT pg_get_serial_sequence('items', 'id')`, "public.items_id_seq")
			h.eq("raw", `SELECT data_type::text FROM pg_sequences WHERE sequencename = 'items_id_seq'`, "bigint")
			h.on("new", `INSERT INTO items (name) VALUES ('after')`)
			h.eq("old", `SELECT (SELECT id FROM items WHERE name = 'after') = max(id) FROM items`, "true")
			h.fails("old", `INSERT INTO items (id, name) VALUES (1, 'dup')`, "items_pkey")
			h.on("old", `INSERT INTO items (id, name) VALUES (5000000000, 'big')`)
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attname = 'id'`, "integer")
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'items_pkey'`, "PRIMARY KEY (id)")
			h.eq("raw", `SELECT pg_get_serial_sequence('items', 'id')`, "public.items_id_seq")
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE tablename = 'items'`, "1")
			h.on("old", `INSERT INTO items (name) VALUES ('after')`)
			h.eq("old", `SELECT count(*) FROM items`, "3003")
		},
	}, {
		name: "identity_pk",
		setup: `CREATE TABLE ev (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int NOT NULL);
			INSERT INTO ev (n) SELECT g FROM generate_series(1, 3000) g;`,
		migration: `operations: [{alter_column: {table: ev, column: id, type: bigint}}]`,
		afterExpand: func(h *hooks) {
			n := h.on("new", `INSERT INTO ev (n) VALUES (-1) RETURNING id`)
			h.eq("old", `SELECT n FROM ev WHERE id = `+n, "-1")
			o := h.on("old", `INSERT INTO ev (n) VALUES (-2) RETURNING id`)
			h.eq("new", `SELECT n FROM ev WHERE id = `+o, "-2")
			h.fails("old", `INSERT INTO ev (id, n) VALUES (7, 7)`, "non-DEFAULT")
			h.eq("new", `SELECT count(DISTINCT id) FROM ev`, "3002")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT attidentity::text || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ev'::regclass AND attname = 'id'`, "a bigint")
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ev_pkey'`, "PRIMARY KEY (id)")
			h.on("new", `INSERT INTO ev (n) VALUES (-3)`)
			h.eq("old", `SELECT (SELECT id FROM ev WHERE n = -3) = max(id) FROM ev`, "true")
			h.eq("old", `SELECT count(DISTINCT id) FROM ev`, "3003")
			h.fails("new", `INSERT INTO ev (id, n) VALUES (7, 7)`, "non-DEFAULT")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT attidentity::text || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'ev'::regclass AND attname = 'id'`, "a integer")
			h.on("old", `INSERT INTO ev (n) VALUES (-3)`)
			h.eq("old", `SELECT (SELECT id FROM ev WHERE n = -3) = max(id) FROM ev`, "true")
		},
	}, {
		name: "multi_column_pk",
		setup: `CREATE TABLE m (a int, b int, v text, PRIMARY KEY (a, b));
			INSERT INTO m SELECT g % 10, g, 'v' FROM generate_series(1, 2000) g;`,
		migration: `operations: [{alter_column: {table: m, column: b, type: bigint, name: bb, up: "b", down: "bb"}}]`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO m (a, bb, v) VALUES (1, 3000000, 'n')`)
			h.eq("old", `SELECT v FROM m WHERE a = 1 AND b = 3000000`, "n")
			h.fails("new", `INSERT INTO m (a, bb, v) VALUES (1, 1, 'dup')`, "duplicate key")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'm_pkey'`, "PRIMARY KEY (a, bb)")
			h.fails("old", `INSERT INTO m (a, bb, v) VALUES (1, 1, 'dup')`, "m_pkey")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'm_pkey'`, "PRIMARY KEY (a, b)")
		},
	}, {
		name:      "referenced_by_fk",
		setup:     fkSetup,
		migration: `operations: [{alter_column: {table: users, column: id, type: bigint}}]`,
		afterExpand: func(h *hooks) {
			u := h.on("new", `INSERT INTO users (name) VALUES ('new-user') RETURNING id`)
			h.on("old", `INSERT INTO orders (user_id, total) VALUES (`+u+`, 1)`)
			u = h.on("old", `INSERT INTO users (name) VALUES ('old-user') RETURNING id`)
			h.on("new", `INSERT INTO orders (user_id, total) VALUES (`+u+`, 2)`)
			h.fails("new", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
			h.fails("old", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT convalidated::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_user_id_fkey'`,
				"true FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE")
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'users_pkey'`, "PRIMARY KEY (id)")
			h.eq("new", orphans, "0")
			h.eq("new", `SELECT count(*) FROM orders`, "3002")
			u := h.on("new", `INSERT INTO users (name) VALUES ('after') RETURNING id`)
			h.on("old", `INSERT INTO orders (user_id, total) VALUES (`+u+`, 4)`)
			h.fails("new", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
			h.on("new", `DELETE FROM users WHERE name = 'new-user'`)
			h.eq("new", `SELECT count(*) FROM orders WHERE total = 1`, "1") // cascaded: only the seed row with total 1 is left
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT convalidated::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_user_id_fkey'`,
				"true FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE")
			h.eq("old", orphans, "0")
			h.fails("old", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
		},
	}, {
		name:      "referencing_column_type_alone",
		setup:     fkSetup,
		migration: `operations: [{alter_column: {table: orders, column: user_id, type: bigint}}]`,
		afterExpand: func(h *hooks) {
			h.fails("new", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "violates foreign key")
			h.on("new", `INSERT INTO orders (user_id, total) VALUES (5, 3)`)
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT convalidated::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'orders_user_id_fkey'`,
				"true FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE")
			h.fails("old", `INSERT INTO orders (user_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
		},
	}, {
		name:  "referenced_and_referencing_in_one_file",
		setup: fkSetup + `ALTER TABLE users ADD COLUMN boss int REFERENCES users (id); UPDATE users SET boss = 1 WHERE id > 1;`,
		migration: `
operations:
  - alter_column: {table: orders, column: user_id, type: bigint, name: customer_id, up: user_id, down: customer_id}
  - alter_column: {table: users, column: id, type: bigint}
  - alter_column: {table: users, column: boss, type: bigint}`,
		afterExpand: func(h *hooks) {
			u := h.on("new", `INSERT INTO users (name, boss) VALUES ('new-user', 1) RETURNING id`)
			h.on("new", `INSERT INTO orders (customer_id, total) VALUES (`+u+`, 1)`)
			h.fails("new", `INSERT INTO orders (customer_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
			h.fails("new", `INSERT INTO users (name, boss) VALUES ('x', 99999999)`, "users_boss_fkey")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname || ' ' || convalidated::text || ' ' || pg_get_constraintdef(oid), '; ' ORDER BY conname) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
				"orders_user_id_fkey true FOREIGN KEY (customer_id) REFERENCES users(id) ON DELETE CASCADE; users_boss_fkey true FOREIGN KEY (boss) REFERENCES users(id)")
			h.eq("raw", `SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attname || format_type(atttypid, atttypmod)) FROM pg_attribute WHERE attrelid IN ('users'::regclass, 'orders'::regclass) AND attname IN ('id', 'customer_id', 'boss') AND NOT attisdropped`,
				"boss bigint, customer_id bigint, id bigint, id integer")
			h.eq("old", `SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.customer_id WHERE u.id IS NULL`, "0")
			h.fails("old", `INSERT INTO orders (customer_id, total) VALUES (99999999, 3)`, "orders_user_id_fkey")
			h.fails("old", `INSERT INTO users (name, boss) VALUES ('x', 99999999)`, "users_boss_fkey")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname || ' ' || convalidated::text, '; ' ORDER BY conname) FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`,
				"orders_user_id_fkey true; users_boss_fkey true")
			h.eq("old", orphans, "0")
		},
	}, {
		name: "unique_column_referenced",
		setup: `CREATE TABLE skus (id int PRIMARY KEY, code varchar(10) NOT NULL CONSTRAINT skus_code_key UNIQUE);
			CREATE TABLE stock (code varchar(10) REFERENCES skus (code) DEFERRABLE, n int);
			INSERT INTO skus SELECT g, 'c' || g FROM generate_series(1, 500) g; INSERT INTO stock SELECT 'c' || g, g FROM generate_series(1, 500) g;`,
		migration: `operations: [{alter_column: {table: skus, column: code, type: text, up: code, down: code}}]`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO skus VALUES (501, 'c501')`)
			h.on("old", `INSERT INTO stock VALUES ('c501', 1)`)
			h.fails("new", `INSERT INTO skus VALUES (502, 'c1')`, "duplicate key")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT convalidated::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'stock_code_fkey'`,
				"true FOREIGN KEY (code) REFERENCES skus(code) DEFERRABLE")
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'skus_code_key'`, "UNIQUE (code)")
			h.fails("old", `INSERT INTO stock VALUES ('nope', 1)`, "stock_code_fkey")
		},
	}, {
		name: "bigserial_pk_renamed_and_referenced",
		setup: `CREATE TABLE a (id bigserial PRIMARY KEY, v int); CREATE TABLE b (a_ref bigint REFERENCES a (id) ON UPDATE CASCADE);
			INSERT INTO a (v) SELECT g FROM generate_series(1, 300) g; INSERT INTO b SELECT g FROM generate_series(1, 300) g;`,
		migration: `operations: [{alter_column: {table: a, column: id, name: a_id, check: {name: a_id_positive, constraint: "a_id > 0"}, up: id, down: a_id}}]`,
		afterExpand: func(h *hooks) {
			n := h.on("new", `INSERT INTO a (v) VALUES (-1) RETURNING a_id`)
			h.on("old", `INSERT INTO b VALUES (`+n+`)`)
			h.fails("new", `INSERT INTO a (a_id, v) VALUES (-5, 0)`, "a_id_positive")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT convalidated::text || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'b_a_ref_fkey'`,
				"true FOREIGN KEY (a_ref) REFERENCES a(a_id) ON UPDATE CASCADE")
			h.eq("raw", `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'a_pkey'`, "PRIMARY KEY (a_id)")
			h.eq("raw", `SELECT pg_get_serial_sequence('a', 'a_id')`, "public.a_id_seq")
			h.on("old", `INSERT INTO a (v) VALUES (-2)`)
			h.eq("old", `SELECT (SELECT a_id FROM a WHERE v = -2) = max(a_id) FROM a`, "true")
			h.on("old", `UPDATE a SET a_id = 1000 WHERE a_id = 1`)
			h.eq("old", `SELECT count(*) FROM b WHERE a_ref = 1000`, "1")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT pg_get_serial_sequence('a', 'id')`, "public.a_id_seq")
			h.eq("old", `SELECT count(*) FROM b LEFT JOIN a ON a.id = b.a_ref WHERE a.id IS NULL`, "0")
		},
	}, {
		name: "serial_and_identity_by_default_not_key",
		setup: `CREATE TABLE t (k text PRIMARY KEY, s serial, i smallint GENERATED BY DEFAULT AS IDENTITY);
			INSERT INTO t (k) SELECT 'k' || g FROM generate_series(1, 100) g;`,
		migration: `operations: [{alter_column: {table: t, column: s, type: bigint}}, {alter_column: {table: t, column: i, type: int}}]`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO t (k) VALUES ('new')`)
			h.eq("old", `SELECT count(*) FROM t WHERE s IS NULL OR i IS NULL`, "0")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attidentity::text, ', ' ORDER BY attname) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname IN ('s', 'i')`,
				"i integer d, s bigint ")
			h.on("old", `INSERT INTO t (k) VALUES ('after')`)
			h.eq("old", `SELECT (SELECT s FROM t WHERE k = 'after') = max(s) AND (SELECT i FROM t WHERE k = 'after') = max(i) FROM t`, "true")
			h.on("old", `INSERT INTO t (k, i) VALUES ('explicit', 30000)`)
			h.eq("raw", `SELECT pg_get_serial_sequence('t', 's')`, "public.t_s_seq")
		},
	}})
}

// The plan shows the key statements with their locks.
func TestAlterKeyPlan(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	mustExec(t, pool, `CREATE TABLE users (id serial PRIMARY KEY, name text);
		CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users (id))`)
	plan, err := PlanExpand(ctx(t), pool, []*Migration{mig(t, "m1", `operations: [{alter_column: {table: users, column: id, type: bigint}}]`)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	find := func(list []Action, id string) *Action {
		for i := range list {
			if list[i].ID == id {
				return &list[i]
			}
		}
		t.Fatalf("no action %s in %v", id, ids(list))
		return nil
	}
	ix := find(plan.Expand, "keys/users/index/_tm_pk_users")
	if ix.Lock != "SHARE UPDATE EXCLUSIVE" || !ix.Scans || !strings.Contains(ix.SQL[0], `CREATE UNIQUE INDEX CONCURRENTLY "_tm_pk_users" ON "public"."users" USING btree ("_tm_new_id")`) {
		t.Errorf("pk index action: %+v", ix)
	}
	sw := find(plan.Contract, "swap/users")
	all := strings.Join(sw.SQL, ";\n")
	for _, want := range []string{
		`ALTER SEQUENCE public.users_id_seq OWNED BY "public"."users"."_tm_new_id"`,
		`ALTER TABLE "public"."orders" DROP CONSTRAINT IF EXISTS "orders_user_id_fkey"`,
		`ADD CONSTRAINT "users_pkey" PRIMARY KEY USING INDEX "_tm_pk_users"`,
		`ALTER TABLE "public"."orders" ADD CONSTRAINT "orders_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "public"."users" ("id") NOT VALID`,
		`ALTER SEQUENCE public.users_id_seq AS bigint`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("swap lacks %q:\n%s", want, all)
		}
	}
	if sw.Lock != "ACCESS EXCLUSIVE on orders, users (brief, catalog only)" || sw.SQL[0] != `LOCK TABLE "public"."orders", "public"."users" IN ACCESS EXCLUSIVE MODE` {
		t.Errorf("swap lock %q", sw.Lock)
	}
	v := find(plan.Contract, "keys/users/validate/orders/orders_user_id_fkey")
	if !v.Scans || !strings.HasPrefix(v.Lock, "SHARE UPDATE EXCLUSIVE on orders") {
		t.Errorf("validate action: %+v", v)
	}
	find(plan.Rollback, "keys/users/drop-index/_tm_pk_users")
}

// Key changes tidemark cannot plan are refused with a message saying what to do.
func TestAlterKeyRefusals(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	mustExec(t, pool, `CREATE TABLE users (id int PRIMARY KEY, name text); CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));
		ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name); CREATE SCHEMA other; CREATE TABLE other.refs (name text REFERENCES public.users (name))`)
	for _, tc := range []struct{ yaml, want string }{
		{`operations: [{alter_column: {table: users, column: id, nullable: true, up: id, down: id}}]`, "cannot become nullable"},
		{`operations: [{alter_column: {table: users, column: id, type: bigint}}, {add_column: {table: orders, column: {name: u2, type: bigint, nullable: true, references: {name: o_u2, table: users, column: id}}}}]`, "which this version changes"},
		{`operations: [{rename_table: {from: users, to: people}}, {alter_column: {table: people, column: id, type: bigint}}]`, "under the table's name before this version"},
		{`operations: [{alter_column: {table: users, column: name, type: varchar(50), up: name, down: name}}]`, "foreign key other.refs.refs_name_fkey of another schema"},
	} {
		_, err := PlanExpand(ctx(t), pool, []*Migration{mig(t, "m1", tc.yaml)}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func ids(list []Action) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.ID
	}
	return out
}
