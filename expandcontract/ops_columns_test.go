package expandcontract

import "testing"

const usersSetup = `CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text, age int);
INSERT INTO users (name, email, age) SELECT 'user' || g, 'u' || g || '@x', g FROM generate_series(1, 50) g;`

func TestColumnOperations(t *testing.T) {
	runOpCases(t, []opCase{{
		name:  "add_column",
		setup: usersSetup,
		migration: `
operations:
  - add_column:
      table: users
      up: "'n/a'"
      column: {name: nickname, type: text, comment: the nickname}`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT nickname FROM users WHERE id = 1`, "n/a")
			h.on("old", `INSERT INTO users (name) VALUES ('old1')`)
			h.eq("new", `SELECT nickname FROM users WHERE name = 'old1'`, "n/a")
			h.on("new", `INSERT INTO users (name, nickname) VALUES ('new1', 'nn')`)
			h.eq("old", `SELECT count(*) FROM users WHERE name = 'new1'`, "1")
			h.fails("old", `SELECT nickname FROM users`, "does not exist")
			h.fails("new", `INSERT INTO users (name, nickname) VALUES ('new2', NULL)`, "violates check constraint")
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT nickname FROM users WHERE name = 'new1'`, "nn")
			h.eq("new", `SELECT nickname FROM users WHERE id = 2`, "n/a")
			h.eq("raw", `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'nickname'`, "true")
			h.eq("raw", `SELECT col_description('users'::regclass, (SELECT attnum FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'nickname'))`, "the nickname")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM users`, "52")
			h.fails("old", `SELECT nickname FROM users`, "does not exist")
		},
	}, {
		name:  "add_column_unique_fk_check",
		setup: usersSetup + `CREATE TABLE teams (id int PRIMARY KEY); INSERT INTO teams VALUES (1), (2);`,
		migration: `
operations:
  - add_column:
      table: users
      column:
        name: team_id
        type: int
        nullable: true
        references: {name: users_team_fk, table: teams, column: id}
  - add_column:
      table: users
      up: "'code' || id"
      column:
        name: code
        type: text
        unique: true
        check: {name: code_len, constraint: "length(code) < 20"}`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO users (name, team_id, code) VALUES ('a', 1, 'c1')`)
			h.fails("new", `INSERT INTO users (name, team_id, code) VALUES ('b', 9, 'c2')`, "users_team_fk")
			h.fails("new", `INSERT INTO users (name, code) VALUES ('b', 'c1')`, "duplicate key")
			h.fails("new", `INSERT INTO users (name, code) VALUES ('b', repeat('x', 30))`, "code_len")
			h.on("old", `INSERT INTO users (name) VALUES ('old')`)
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass AND convalidated AND conname IN ('users_team_fk', 'code_len', 'users_code_key')`, "3")
			h.fails("old", `INSERT INTO users (name, code) VALUES ('z', 'c1')`, "users_code_key")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE tablename = 'users'`, "1")
		},
	}, {
		name:  "add_column_up_subquery",
		setup: usersSetup + `CREATE TABLE names (id int, name text); INSERT INTO names SELECT g, 'N' || g FROM generate_series(1, 60) g;`,
		migration: `
operations:
  - add_column:
      table: users
      up: SELECT name FROM names WHERE names.id = age
      column: {name: alias, type: text, nullable: true}`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT alias FROM users WHERE id = 5`, "N5")
			h.on("old", `INSERT INTO users (name, age) VALUES ('q', 42)`)
			h.eq("new", `SELECT alias FROM users WHERE name = 'q'`, "N42")
		},
	}, {
		name:  "drop_column",
		setup: usersSetup,
		migration: `
operations:
  - drop_column:
      table: users
      column: name
      down: "'dropped-' || coalesce(email, '')"`,
		afterExpand: func(h *hooks) {
			h.fails("new", `SELECT name FROM users`, "does not exist")
			h.on("new", `INSERT INTO users (email) VALUES ('z@x')`)
			h.eq("old", `SELECT name FROM users WHERE email = 'z@x'`, "dropped-z@x")
			h.on("old", `INSERT INTO users (name) VALUES ('keep')`)
		},
		afterContract: func(h *hooks) {
			h.fails("old", `SELECT name FROM users`, "does not exist")
			h.eq("new", `SELECT count(*) FROM users`, "52")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT name FROM users WHERE id = 7`, "user7")
		},
	}, {
		name:      "rename_column",
		setup:     usersSetup,
		migration: `{"name": "ignored_in_test", "operations": [{"rename_column": {"table": "users", "from": "email", "to": "mail"}}]}`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT mail FROM users WHERE id = 3`, "u3@x")
			h.on("new", `UPDATE users SET mail = 'changed' WHERE id = 3`)
			h.eq("old", `SELECT email FROM users WHERE id = 3`, "changed")
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT mail FROM users WHERE id = 3`, "changed")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT email FROM users WHERE id = 3`, "changed")
		},
	}})
}
