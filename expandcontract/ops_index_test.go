package expandcontract

import "testing"

func TestIndexAndConstraintOperations(t *testing.T) {
	runOpCases(t, []opCase{{
		name:  "create_index",
		setup: usersSetup,
		migration: `
operations:
  - create_index:
      name: users_age_idx
      table: users
      columns:
        age: {sort: DESC, nulls: LAST}
        name: {opclass: text_pattern_ops}
      predicate: age > 10
      method: btree
      storage_parameters: fillfactor=70
  - create_index: {name: users_email_uniq, table: users, columns: [email], unique: true}`,
		afterExpand: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname IN ('users_age_idx', 'users_email_uniq') AND x.indisvalid`, "2")
			h.eq("raw", `SELECT pg_get_indexdef('users_age_idx'::regclass)`, "CREATE INDEX users_age_idx ON public.users USING btree (age DESC NULLS LAST, name text_pattern_ops) WITH (fillfactor='70') WHERE (age > 10)")
			h.fails("new", `INSERT INTO users (name, email) VALUES ('d', 'u1@x')`, "duplicate key")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_age_idx', 'users_email_uniq')`, "2")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE indexname IN ('users_age_idx', 'users_email_uniq')`, "0")
		},
	}, {
		name:      "drop_index",
		setup:     usersSetup + `CREATE INDEX users_name_idx ON users (name);`,
		migration: `{"operations": [{"drop_index": {"name": "users_name_idx"}}]}`,
		afterExpand: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name_idx'`, "1")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name_idx'`, "0")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name_idx'`, "1")
		},
	}, {
		name: "create_constraint",
		setup: usersSetup + `CREATE TABLE teams (id int, label text); INSERT INTO teams VALUES (1, 'a'), (2, 'b');
			ALTER TABLE users ADD COLUMN team int; UPDATE users SET team = 1;
			CREATE EXTENSION IF NOT EXISTS btree_gist;`,
		migration: `
operations:
  - create_constraint: {name: teams_pkey, table: teams, type: primary_key, columns: [id]}
  - create_constraint: {name: users_name_email_key, table: users, type: unique, columns: [name, email]}
  - create_constraint: {name: users_age_chk, table: users, type: check, check: "age >= 0", up: {age: "greatest(age, 0)"}, down: {age: age}}
  - create_constraint:
      name: users_team_fk
      table: users
      type: foreign_key
      columns: [team]
      references: {table: teams, columns: [id], on_delete: CASCADE}
  - create_constraint:
      name: teams_label_excl
      table: teams
      type: exclude
      exclude: {index_method: gist, elements: "label WITH ="}`,
		afterExpand: func(h *hooks) {
			h.fails("new", `INSERT INTO users (name, age) VALUES ('neg', -1)`, "users_age_chk")
			h.fails("new", `INSERT INTO users (name, email) VALUES ('user1', 'u1@x')`, "duplicate key")
			h.fails("new", `INSERT INTO users (name, team) VALUES ('t', 9)`, "users_team_fk")
			h.fails("new", `INSERT INTO teams VALUES (3, 'a')`, "teams_label_excl")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE convalidated AND conname IN ('teams_pkey', 'users_name_email_key', 'users_age_chk', 'users_team_fk', 'teams_label_excl')`, "5")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE conname IN ('teams_pkey', 'users_name_email_key', 'users_age_chk', 'users_team_fk', 'teams_label_excl')`, "0")
			h.eq("raw", `SELECT count(*) FROM pg_indexes WHERE tablename IN ('users', 'teams')`, "1")
		},
	}, {
		name: "create_constraint_with_up_down",
		setup: usersSetup + `UPDATE users SET age = -age WHERE id % 10 = 0; CREATE TABLE teams (id int PRIMARY KEY); INSERT INTO teams VALUES (1);
			ALTER TABLE users ADD COLUMN team int; UPDATE users SET team = id % 3;`,
		migration: `
operations:
  - create_constraint:
      {name: users_age_pos, table: users, type: check, check: "age >= 0", columns: [age], up: {age: "abs(age)"}, down: {age: age}}
  - create_constraint:
      name: users_team_fk
      table: users
      type: foreign_key
      columns: [team]
      references: {table: teams, columns: [id]}
      up: {team: "CASE WHEN team = 1 THEN 1 END"}
      down: {team: team}
  - create_constraint:
      {name: users_name_email_uq, table: users, type: unique, columns: [name, email], up: {name: name, email: email}, down: {name: name, email: email}}`,
		afterExpand: func(h *hooks) {
			h.on("old", `INSERT INTO users (name, age, team) VALUES ('o', -5, 2)`) // old version is not held to the new constraints
			h.eq("new", `SELECT age::text || '/' || coalesce(team::text, 'NULL') FROM users WHERE name = 'o'`, "5/NULL")
			h.eq("old", `SELECT age FROM users WHERE name = 'o'`, "-5")
			h.fails("new", `INSERT INTO users (name, age) VALUES ('n', -1)`, "users_age_pos")
			h.fails("new", `INSERT INTO users (name, team) VALUES ('n', 2)`, "users_team_fk")
			h.fails("new", `INSERT INTO users (name, email) VALUES ('user1', 'u1@x')`, "duplicate key")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE convalidated AND conname IN ('users_age_pos', 'users_team_fk', 'users_name_email_uq')`, "3")
			h.eq("old", `SELECT count(*) FROM users WHERE age < 0`, "0")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM users WHERE age < 0`, "6")
		},
	}, {
		name:  "drop_rename_constraints",
		setup: usersSetup + `ALTER TABLE users ADD CONSTRAINT age_pos CHECK (age > 0), ADD CONSTRAINT name_email UNIQUE (name, email), ADD CONSTRAINT old_name CHECK (length(name) < 100);`,
		migration: `
operations:
  - drop_constraint: {table: users, name: age_pos, up: age, down: "greatest(age, 1)"}
  - drop_multicolumn_constraint: {table: users, name: name_email, up: {name: name, email: email}, down: {name: name, email: email}}
  - rename_constraint: {table: users, from: old_name, to: name_len}`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO users (name, age) VALUES ('neg', -5)`) // new version is free of age_pos at once
			h.eq("old", `SELECT age FROM users WHERE name = 'neg'`, "1")    // old keeps it: down gives greatest(age, 1)
			h.fails("old", `INSERT INTO users (name, age) VALUES ('neg2', -5)`, "age_pos")
		},
		afterContract: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype <> 'p'`, "name_len")
			h.on("new", `INSERT INTO users (name, age) VALUES ('z', -5)`)
			h.eq("new", `SELECT age FROM users WHERE name = 'neg'`, "-5")
		},
		afterRollback: func(h *hooks) {
			h.eq("raw", `SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'users'::regclass AND contype <> 'p'`, "age_pos,name_email,old_name")
		},
	}})
}
