package expandcontract

import "testing"

func TestTableOperations(t *testing.T) {
	runOpCases(t, []opCase{{
		name:  "create_table",
		setup: usersSetup,
		migration: `
operations:
  - create_table:
      name: orders
      comment: orders of users
      columns:
        - {name: id, type: bigserial, pk: true}
        - {name: user_id, type: bigint, references: {name: orders_user_fk, table: users, column: id}}
        - {name: total, type: "numeric(10,2)", default: "0", check: {name: total_pos, constraint: "total >= 0"}}
        - {name: note, type: text, nullable: true, unique: true}
      constraints:
        - {name: orders_user_note, type: unique, columns: [user_id, note]}`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO orders (user_id, total) VALUES (1, 5)`)
			h.eq("new", `SELECT total::text FROM orders`, "5.00")
			h.fails("new", `INSERT INTO orders (user_id, total) VALUES (1, -1)`, "total_pos")
			h.fails("new", `INSERT INTO orders (user_id) VALUES (999)`, "orders_user_fk")
		},
		afterContract: func(h *hooks) {
			h.eq("new", `SELECT count(*) FROM orders`, "1")
			h.eq("raw", `SELECT obj_description('orders'::regclass, 'pg_class')`, "orders of users")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT coalesce(to_regclass('orders')::text, 'none')`, "none")
		},
	}, {
		name:      "drop_table",
		setup:     usersSetup,
		migration: `{"operations": [{"drop_table": {"name": "users"}}]}`,
		afterExpand: func(h *hooks) {
			h.fails("new", `SELECT * FROM users`, "does not exist")
			h.on("old", `INSERT INTO users (name) VALUES ('still')`)
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT coalesce(to_regclass('users')::text, 'none')`, "none")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM users`, "51")
		},
	}, {
		name:  "rename_table",
		setup: usersSetup,
		migration: `
operations:
  - rename_table: {from: users, to: customers}
  - add_column:
      table: customers
      up: "upper(name)"
      column: {name: shout, type: text}`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT shout FROM customers WHERE id = 1`, "USER1")
			h.on("new", `INSERT INTO customers (name, shout) VALUES ('c', 'C!')`)
			h.on("old", `INSERT INTO users (name) VALUES ('o')`)
			h.eq("new", `SELECT shout FROM customers WHERE name = 'o'`, "O")
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT shout FROM customers WHERE name = 'c'`, "C!")
			h.eq("new", `SELECT count(*) FROM customers`, "52")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM users`, "52")
		},
	}, {
		name:  "set_replica_identity",
		setup: usersSetup,
		migration: `
operations:
  - set_replica_identity: {table: users, identity: {type: full}}`,
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT relreplident::text FROM pg_class WHERE oid = 'users'::regclass`, "f")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT relreplident::text FROM pg_class WHERE oid = 'users'::regclass`, "d")
		},
	}, {
		name:  "sql",
		setup: usersSetup,
		migration: `
operations:
  - sql:
      up: CREATE TABLE audit (id serial PRIMARY KEY, what text)
      down: DROP TABLE audit`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO audit (what) VALUES ('x')`)
		},
		afterContract: func(h *hooks) {
			h.eq("new", `SELECT what FROM audit`, "x")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT coalesce(to_regclass('audit')::text, 'none')`, "none")
		},
	}, {
		name:  "sql_on_complete",
		setup: usersSetup,
		migration: `
operations:
  - sql:
      up: UPDATE users SET age = 0 WHERE age IS NULL
      onComplete: true`,
		afterExpand: func(h *hooks) {
			h.on("old", `INSERT INTO users (name) VALUES ('noage')`)
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT age FROM users WHERE name = 'noage'`, "0")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT coalesce(age::text, 'NULL') FROM users WHERE name = 'noage'`, "NULL")
		},
	}})
}
