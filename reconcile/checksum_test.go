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
    sql: SELECT id, cents, note, at, flag, u, a, b, name FROM t
    key: [id:int]
  r:
    database: ${CS_RIGHT}
    sql: SELECT id, amount, note, at, flag, u, a, b, name FROM t
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
`

// The range checksums over different column types: data equal after
// normalisation is equal by checksum (nothing streamed), and every kind of
// difference a weaker hash would hide is found.
func TestChecksumsTellExactlyWhatDiffers(t *testing.T) {
	left, right := env.PostgresDB(t), env.PostgresDB(t)
	execAll(t, left, `CREATE TABLE t (id bigint PRIMARY KEY, cents bigint, note text, at timestamptz, flag boolean, u uuid, a int, b int,
			name text COLLATE "tr-TR-x-icu")`,
		`INSERT INTO t SELECT i, 100 * i + 5, 'note ' || i, '2026-03-29 00:30:00+00'::timestamptz + i * interval '1 minute', i % 2 = 0,
			md5(i::text)::uuid, i, -i, 'Name ' || i FROM generate_series(1, 2000) i`)
	execAll(t, right, `CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
		`CREATE TABLE t (id int PRIMARY KEY, amount numeric(12,2), note varchar COLLATE ci, at timestamp, flag boolean, u text, a bigint, b bigint,
			name text COLLATE "tr-TR-x-icu")`,
		`INSERT INTO t SELECT i, i + 0.05, 'note ' || i, ('2026-03-29 00:30:00+00'::timestamptz + i * interval '1 minute') AT TIME ZONE 'Europe/Paris',
			i % 2 = 0, upper(md5(i::text)::uuid::text), i, -i, 'NAME ' || i FROM generate_series(1, 2000) i`)
	t.Setenv("CS_LEFT", left)
	t.Setenv("CS_RIGHT", right)
	rules, err := ParseRules(strings.NewReader(checksumRules), "checksum.yaml")
	if err != nil {
		t.Fatal(err)
	}
	check := func(want ...int) {
		t.Helper()
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 16, NoState: true})
		if err != nil {
			t.Fatal(err)
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
			t.Errorf("breaks %q, want %q", got, keys)
		}
		c := rep.Counts[0]
		if len(want) == 0 && c.RangesSkipped != c.Ranges {
			t.Errorf("equal data: %d of %d ranges equal by checksum, want all", c.RangesSkipped, c.Ranges)
		}
		if len(want) > 0 && c.RangesSkipped == c.Ranges {
			t.Errorf("%d ranges, all equal by checksum, with differences", c.Ranges)
		}
		if true {
			t.Logf("%+v", c)
		}
	}
	check()
	// The same NULLs on both sides, each row in a different one of the 16
	// ranges of about 125 rows.
	for _, u := range []string{`UPDATE t SET note = NULL, flag = NULL, at = NULL, a = NULL WHERE id IN (100, 300, 550, 800)`,
		`UPDATE t SET u = NULL WHERE id = 1300`} {
		execAll(t, left, u)
		execAll(t, right, u)
	}
	execAll(t, left, `UPDATE t SET cents = NULL WHERE id = 1050`)
	execAll(t, right, `UPDATE t SET amount = NULL WHERE id = 1050`)
	check()
	// Each NULL case alone in its range, so a hash that took NULL for its
	// placeholder would hide it.
	execAll(t, right,
		`UPDATE t SET note = '' WHERE id = 100`,                                                                // NULL against the placeholder
		`UPDATE t SET flag = false WHERE id = 300`,                                                             // NULL against false
		`UPDATE t SET a = 0 WHERE id = 550`,                                                                    // NULL against 0
		`UPDATE t SET at = 'epoch'::timestamptz AT TIME ZONE 'Europe/Paris' WHERE id = 800`,                    // NULL against the epoch
		`UPDATE t SET a = b, b = a WHERE id = 1100`,                                                            // two fields swapped in a row
		`UPDATE t SET note = CASE id WHEN 1351 THEN 'note 1352' ELSE 'note 1351' END WHERE id IN (1351, 1352)`, // swapped between rows
		`UPDATE t SET note = 'NOTE 1600' WHERE id = 1600`,                                                      // equal under the column's case-insensitive collation
		`UPDATE t SET amount = amount + 0.01 WHERE id = 1800`,                                                  // one cent
		`UPDATE t SET at = at + interval '1 microsecond' WHERE id = 1900`)                                      // one microsecond
	// A Turkish collation lowers 'I' to 'ı', Go to 'i': alone in its range.
	execAll(t, left, `UPDATE t SET name = 'I' WHERE id = 200`)
	execAll(t, right, `UPDATE t SET name = 'ı' WHERE id = 200`)
	check(100, 200, 300, 550, 800, 1100, 1351, 1352, 1600, 1800, 1900)
}
