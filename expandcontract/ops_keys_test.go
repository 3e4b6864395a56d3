package expandcontract

import "testing"

// Tables with a GENERATED ALWAYS identity key, and without any key (the
// backfill walks ctid ranges), through both versions.
func TestKeysIdentityAndNone(t *testing.T) {
	runOpCases(t, []opCase{{
		name: "identity",
		setup: `CREATE TABLE ev (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int NOT NULL);
			INSERT INTO ev (n) SELECT g FROM generate_series(1, 3000) g;`,
		migration: `operations: [{alter_column: {table: ev, column: n, type: bigint, up: "n * 10", down: "(n / 10)::int"}}]`,
		afterExpand: func(h *hooks) {
			h.on("new", `INSERT INTO ev (n) VALUES (30010)`)
			h.on("old", `INSERT INTO ev (n) VALUES (3002)`)
			h.eq("new", `SELECT count(*) FROM ev WHERE n <> id * 10`, "0")
		},
		afterContract: func(h *hooks) {
			h.eq("new", `SELECT count(*) FROM ev WHERE n <> id * 10`, "0")
		},
		afterRollback: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM ev WHERE n <> id`, "0")
		},
	}, {
		name: "no_key",
		setup: `CREATE TABLE logs (at int, msg text);
			INSERT INTO logs SELECT g, 'm' || g FROM generate_series(1, 3000) g;`,
		migration: `operations: [{alter_column: {table: logs, column: msg, type: varchar(20), up: "upper(msg)", down: "lower(msg)"}}]`,
		afterExpand: func(h *hooks) {
			h.eq("new", `SELECT count(*) FROM logs WHERE msg <> 'M' || at`, "0")
			h.on("new", `INSERT INTO logs VALUES (3001, 'M3001')`)
			h.eq("old", `SELECT msg FROM logs WHERE at = 3001`, "m3001")
		},
		afterContract: func(h *hooks) {
			h.eq("old", `SELECT count(*) FROM logs WHERE msg <> 'M' || at`, "0")
		},
	}})
}
