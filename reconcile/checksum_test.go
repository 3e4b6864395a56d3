package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

const checksumRules = `sources:
  l:
    database: ${CS_LEFT}
    sql: SELECT id, cents, note, at, flag, u, a, b, name, ratio FROM t
    key: [id:int]
  r:
    database: ${CS_RIGHT}
    sql: SELECT id, amount, note, at, flag, u, a, b, name, ratio FROM t
    key: [id:int]
invariants:
  - name: rows
    match:
      left: l
      right: r
      fields:
        - {name: amount, left: cents, right: amount, type: money, right_unit: major}
        - note
        - {name: at, type: timestamp, timezone: Europe/Paris}
        - {name: flag, type: bool}
        - {name: u, type: uuid}
        - {name: a, type: int}
        - {name: b, type: int}
        - {name: name, case: insensitive}
        - {name: ratio, type: decimal, scale: 1}
`

// The range checksums over different column types: data equal after
// normalisation is equal by checksum (nothing streamed), and every kind of
// difference a weaker hash, or a normalisation in SQL coarser than Go's,
// would hide is found. Each difference is checked alone (then undone), so
// no other difference makes its range streamed anyway.
func TestChecksumsTellExactlyWhatDiffers(t *testing.T) {
	left, right := env.PostgresDB(t), env.PostgresDB(t)
	const leftRows = `SELECT i, 100 * i + 5, 'note ' || i, '2026-03-29 00:30:00+00'::timestamptz + i * interval '1 minute', i %% 2 = 0,
		md5(i::text)::uuid, i, -i, 'Name ' || i, i / 4.0 FROM generate_series(%d, %d) i`
	const rightRows = `SELECT i, i + 0.05, 'note ' || i, ('2026-03-29 00:30:00+00'::timestamptz + i * interval '1 minute') AT TIME ZONE 'Europe/Paris',
		i %% 2 = 0, upper(md5(i::text)::uuid::text), i, -i, 'NAME ' || i, i / 4.0 FROM generate_series(%d, %d) i`
	execAll(t, left, `CREATE TABLE t (id bigint PRIMARY KEY, cents bigint, note text, at timestamptz, flag boolean, u uuid, a int, b int,
			name text COLLATE "tr-TR-x-icu", ratio float8)`, "INSERT INTO t "+fmt.Sprintf(leftRows, 1, 2000),
		// floats as text with 15 digits by default: tidemark must not read them so
		`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET extra_float_digits = 0', current_database()); END $$`)
	execAll(t, right, `CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`CREATE TABLE t (id int PRIMARY KEY, amount numeric(12,2), note varchar COLLATE ci, at timestamp, flag boolean, u text, a bigint, b bigint,
			name text COLLATE "tr-TR-x-icu", ratio numeric)`, "INSERT INTO t "+fmt.Sprintf(rightRows, 1, 2000))
	t.Setenv("CS_LEFT", left)
	t.Setenv("CS_RIGHT", right)
	rules, err := ParseRules(strings.NewReader(checksumRules), "checksum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, want ...int) {
		t.Helper()
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 16, NoState: true})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var got, keys []string
		for _, b := range rep.Breaks {
			got = append(got, b.Kind+"/"+b.Key)
		}
		for _, id := range want {
			keys = append(keys, fmt.Sprintf("mismatch/%d", id))
		}
		slices.Sort(got)
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Errorf("%s: breaks %q, want %q", what, got, keys)
		}
		if c := rep.Counts[0]; len(want) == 0 && c.RangesSkipped != c.Ranges {
			t.Errorf("%s: %d of %d ranges equal by checksum, want all", what, c.RangesSkipped, c.Ranges)
		}
	}
	check("equal data")
	// The same NULLs on both sides.
	for _, u := range []string{`UPDATE t SET note = NULL, flag = NULL, at = NULL, a = NULL, u = NULL, ratio = NULL WHERE id = 1300`} {
		execAll(t, left, u, `UPDATE t SET cents = NULL WHERE id = 1300`)
		execAll(t, right, u, `UPDATE t SET amount = NULL WHERE id = 1300`)
	}
	check("the same NULLs")
	for _, c := range []struct {
		what        string
		id          int
		left, right string
	}{
		{"NULL against ''", 100, `UPDATE t SET note = NULL WHERE id = 100`, `UPDATE t SET note = '' WHERE id = 100`},
		{"NULL against false", 300, `UPDATE t SET flag = NULL WHERE id = 300`, `UPDATE t SET flag = false WHERE id = 300`},
		{"NULL against 0", 550, `UPDATE t SET a = NULL WHERE id = 550`, `UPDATE t SET a = 0 WHERE id = 550`},
		{"NULL against the epoch", 800, `UPDATE t SET at = NULL WHERE id = 800`,
			`UPDATE t SET at = 'epoch'::timestamptz AT TIME ZONE 'Europe/Paris' WHERE id = 800`},
		{"two fields swapped in a row", 1100, ``, `UPDATE t SET a = b, b = a WHERE id = 1100`},
		{"values swapped between rows", 1351, ``, `UPDATE t SET note = CASE id WHEN 1351 THEN 'note 1352' ELSE 'note 1351' END WHERE id IN (1351, 1352)`},
		{"case, equal under the column's case-insensitive collation", 1600, ``, `UPDATE t SET note = 'NOTE 1600' WHERE id = 1600`},
		{"one cent", 1800, ``, `UPDATE t SET amount = amount + 0.01 WHERE id = 1800`},
		{"one microsecond", 1900, ``, `UPDATE t SET at = at + interval '1 microsecond' WHERE id = 1900`},
		{"'I' against 'ı' (a Turkish collation lowers 'I' to 'ı', Go to 'i')", 200,
			`UPDATE t SET name = 'I' WHERE id = 200`, `UPDATE t SET name = 'ı' WHERE id = 200`},
		{"a float just below a rounding edge (its ::numeric cast rounds it up)", 650,
			`UPDATE t SET ratio = 0.24999999999999997 WHERE id = 650`, `UPDATE t SET ratio = 0.3 WHERE id = 650`},
		{"NaN, which Go cannot normalise", 400, ``, `UPDATE t SET amount = 'NaN' WHERE id = 400`},
		{"beyond int8 on both sides", 900, `UPDATE t SET ratio = 1e30 WHERE id = 900`, `UPDATE t SET ratio = 1e30 WHERE id = 900`},
	} {
		ids := []int{c.id}
		if c.id == 1351 {
			ids = append(ids, 1352)
		}
		for _, s := range []struct{ url, sql, rows string }{{left, c.left, leftRows}, {right, c.right, rightRows}} {
			if s.sql != "" {
				execAll(t, s.url, s.sql)
			}
		}
		check(c.what, ids...)
		for _, s := range []struct{ url, rows string }{{left, leftRows}, {right, rightRows}} {
			execAll(t, s.url, fmt.Sprintf("DELETE FROM t WHERE id BETWEEN %d AND %d", ids[0], ids[len(ids)-1]),
				"INSERT INTO t "+fmt.Sprintf(s.rows, ids[0], ids[len(ids)-1]))
		}
	}
	check("equal again")
}

const textColumnRules = `sources:
  l:
    database: ${CS_LEFT}
    sql: SELECT * FROM t
    key: [id:int]
  r:
    database: ${CS_RIGHT}
    sql: SELECT * FROM t
    key: [id:int]
invariants:
  - {name: flag, match: {left: l, right: r, fields: [{name: flag, type: bool}]}}
  - {name: amount, match: {left: l, right: r, fields: [{name: amount, type: decimal, scale: 2}]}}
  - {name: at, match: {left: l, right: r, fields: [{name: at, type: timestamp}]}}
  - {name: u, match: {left: l, right: r, fields: [{name: u, type: uuid}]}}
  - {name: flag2, match: {left: l, right: r, fields: [{name: flag2, type: bool}]}}
  - {name: amount2, match: {left: l, right: r, fields: [{name: amount2, type: decimal, scale: 2}]}}
  - {name: u2, match: {left: l, right: r, fields: [{name: u2, type: uuid}]}}
`

// Numbers, booleans, timestamps and uuids held as text: SQL cannot
// normalise them as Go does (Go reports "yes", "abc" or "xyz" as values it
// cannot read, even when both sides hold the same text), so their ranges
// are streamed: the findings are those of --no-checksums, and nothing
// fails. One field per invariant, so that each is checked alone.
func TestChecksumsStreamWhatSQLCannotNormalise(t *testing.T) {
	left, right := env.PostgresDB(t), env.PostgresDB(t)
	const both = `'false', '1.50', upper(md5(i::text)::uuid::text) FROM generate_series(1, 400) i`
	execAll(t, left, `CREATE TABLE t (id bigint PRIMARY KEY, flag text, amount text, at text, u text, flag2 text, amount2 text, u2 text)`,
		`INSERT INTO t SELECT i, 'true', (i + 0.5)::text, '2026-01-01T00:00:00Z', upper(md5(i::text)::uuid::text), `+both,
		`UPDATE t SET flag = 'yes' WHERE id = 50`, `UPDATE t SET amount = 'abc' WHERE id = 150`, `UPDATE t SET u = 'xyz' WHERE id = 250`)
	execAll(t, right, `CREATE TABLE t (id bigint PRIMARY KEY, flag boolean, amount numeric(12,2), at timestamptz, u uuid, flag2 text, amount2 text, u2 text)`,
		`INSERT INTO t SELECT i, true, i + 0.5, '2026-01-01T00:00:00Z', md5(i::text)::uuid, `+both)
	for _, u := range []string{left, right} { // the same text on both sides, which Go cannot read
		execAll(t, u, `UPDATE t SET flag2 = 'no' WHERE id = 350`, `UPDATE t SET amount2 = 'abc' WHERE id = 360`,
			`UPDATE t SET u2 = 'xyz' WHERE id = 370`)
	}
	t.Setenv("CS_LEFT", left)
	t.Setenv("CS_RIGHT", right)
	rules, err := ParseRules(strings.NewReader(textColumnRules), "text.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var sets [2][]string
	for i, noChecksums := range []bool{true, false} {
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 4, NoState: true, NoChecksums: noChecksums})
		if err != nil {
			t.Fatalf("checksums %v: %v", !noChecksums, err)
		}
		sets[i] = findingSet(rep)
		slices.Sort(sets[i])
	}
	want := []string{"amount/mismatch/150", "amount2/mismatch/360", "flag/mismatch/50", "flag2/mismatch/350", "u/mismatch/250", "u2/mismatch/370"}
	if !slices.Equal(sets[0], want) || !slices.Equal(sets[1], want) {
		t.Errorf("findings without checksums %q, with %q, want %q", sets[0], sets[1], want)
	}
}
