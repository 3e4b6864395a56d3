package expandcontract

import "testing"

func TestAlterColumn(t *testing.T) {
	runOpCases(t, []opCase{{
		name:  "type",
		setup: usersSetup,
		migration: `
operations:
  - alter_column:
      table: users
      column: age
      type: text
      up: "age::text || 'y'"
      down: "rtrim(age, 'y')::int"`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT age FROM users WHERE id = 4`, "4y")
			h.on("new", `INSERT INTO users (name, age) VALUES ('n', '33y')`)
			h.eq("old", `SELECT age FROM users WHERE name = 'n'`, "33")
			h.on("old", `UPDATE users SET age = 70 WHERE id = 5`)
			h.eq("new", `SELECT age FROM users WHERE id = 5`, "70y")
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT age FROM users WHERE id = 5`, "70y")
			h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'age'`, "text")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT age FROM users WHERE name = 'n'`, "33")
			h.eq("old", `SELECT age FROM users WHERE id = 5`, "70")
		},
	}, {
		name:  "nullable_false",
		setup: usersSetup + `UPDATE users SET email = NULL WHERE id % 2 = 0;`,
		migration: `
operations:
  - alter_column:
      table: users
      column: email
      nullable: false
      up: "coalesce(email, 'none')"
      down: email`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT email FROM users WHERE id = 2`, "none")
			h.eq("old", `SELECT coalesce(email, 'NULL') FROM users WHERE id = 2`, "NULL")
			h.on("old", `INSERT INTO users (name) VALUES ('nomail')`)
			h.eq("new", `SELECT email FROM users WHERE name = 'nomail'`, "none")
			h.fails("new", `INSERT INTO users (name, email) VALUES ('x', NULL)`, "violates check constraint")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'`, "true")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT attnotnull FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'`, "false")
		},
	}, {
		name:  "unique_check_references_rename",
		setup: usersSetup + `CREATE TABLE teams (id int PRIMARY KEY); INSERT INTO teams VALUES (1), (2); ALTER TABLE users ADD COLUMN team int; UPDATE users SET team = 1 + id % 2;`,
		migration: `
operations:
  - alter_column:
      table: users
      column: name
      name: login
      unique: {name: users_login_key}
      check: {name: login_len, constraint: "length(login) <= 10"}
      up: "left(name, 10)"
      down: login
  - alter_column:
      table: users
      column: team
      references: {name: users_team_fk, table: teams, column: id}`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT login FROM users WHERE id = 9`, "user9")
			h.fails("new", `INSERT INTO users (login) VALUES ('user9')`, "duplicate key")
			h.fails("new", `INSERT INTO users (login) VALUES ('abcdefghijklmnop')`, "login_len")
			h.fails("new", `INSERT INTO users (login, team) VALUES ('t', 77)`, "users_team_fk")
			h.on("old", `INSERT INTO users (name, team) VALUES ('a-very-long-old-name', 2)`)
			h.eq("new", `SELECT login FROM users WHERE team = 2 ORDER BY id DESC LIMIT 1`, "a-very-lon")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'users'::regclass AND convalidated AND contype <> 'p'`, "login_len,users_login_key,users_team_fk")
			h.eq("old", `SELECT login FROM users WHERE id = 1`, "user1")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT name FROM users WHERE team = 2 ORDER BY id DESC LIMIT 1`, "a-very-long-old-name")
			h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE conrelid = 'users'::regclass`, "1")
		},
	}, {
		name: "keeps_indexes_and_constraints",
		setup: usersSetup + `CREATE TABLE teams (id int PRIMARY KEY); INSERT INTO teams VALUES (1), (2);
			ALTER TABLE users ADD COLUMN team int REFERENCES teams (id), ADD CONSTRAINT users_email_key UNIQUE (email),
				ADD CONSTRAINT email_has_at CHECK (email LIKE '%@%');
			UPDATE users SET team = 1; CREATE INDEX users_team_name_idx ON users (team, name) WHERE team IS NOT NULL;`,
		migration: `
operations:
  - alter_column: {table: users, column: email, type: varchar(100), up: email, down: email}
  - alter_column: {table: users, column: team, nullable: false, up: "coalesce(team, 1)", down: team}`,
		afterExpand: func(h *hooks) {
			h.fails("new", `INSERT INTO users (name, email, team) VALUES ('x', 'u1@x', 1)`, "duplicate key")
			h.fails("new", `INSERT INTO users (name, email, team) VALUES ('x', 'nope', 1)`, "email_has_at")
			h.fails("new", `INSERT INTO users (name, email, team) VALUES ('x', 'a@b', 5)`, "violates foreign key")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname || ':' || contype::text, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'users'::regclass AND convalidated`, "users_email_key:u,users_pkey:p,users_team_fkey:f") // email_has_at: type changed, dropped (plan warns)
			h.eq("raw", `SELECT pg_get_indexdef('users_team_name_idx'::regclass)`, "CREATE INDEX users_team_name_idx ON public.users USING btree (team, name) WHERE (team IS NOT NULL)")
			h.eq("raw", `SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'`, "character varying(100)")
			h.fails("old", `INSERT INTO users (name, email, team) VALUES ('x', 'u1@x', 1)`, "users_email_key")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE tablename = 'users'`, "3")
		},
	}, {
		name:  "default_comment",
		setup: usersSetup,
		migration: `
operations:
  - alter_column:
      table: users
      column: age
      default: "18"
      comment: years`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO users (name) VALUES ('d')`)
			h.eq("old", `SELECT age FROM users WHERE name = 'd'`, "18")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT col_description('users'::regclass, 4)`, "years")
		},
		afterRollback: func(h *hooks) {
			h.on("old", `INSERT INTO users (name) VALUES ('e')`)
			h.eq("old", `SELECT coalesce(age::text, 'NULL') FROM users WHERE name = 'e'`, "NULL")
			h.eq("raw", `SELECT coalesce(col_description('users'::regclass, 4), 'NULL')`, "NULL")
		},
	}})
}
