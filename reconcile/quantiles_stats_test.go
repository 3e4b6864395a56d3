package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures/env"
)

func TestInterpolateCuts(t *testing.T) {
	bounds := [][]any{{int64(0)}, {int64(100)}, {int64(1000)}}
	got := fmt.Sprint(interpolateCuts(bounds, 4))
	if got != "[[50] [100] [550]]" {
		t.Errorf("cuts %s, want [[50] [100] [550]]", got)
	}
}

// Ranges cut from pg_stats (an ANALYZEd table, integer and text keys) find
// exactly the injected differences, like ranges cut from a sample.
func TestStatsQuantilesFindings(t *testing.T) {
	left, right := env.PostgresDB(t), env.PostgresDB(t)
	for _, u := range []string{left, right} {
		execAll(t, u, `CREATE TABLE t (id bigint PRIMARY KEY, name text NOT NULL UNIQUE, v int)`,
			`INSERT INTO t SELECT i, 'n' || i, i FROM generate_series(1, 20000) i`)
	}
	execAll(t, right, `UPDATE t SET v = -1 WHERE id IN (7, 9999, 20000)`, `DELETE FROM t WHERE id = 12345`)
	execAll(t, left, `ANALYZE t`)
	for _, key := range []string{"id:int", "name:text"} {
		yaml := fmt.Sprintf(`sources:
  l: {database: "%s", sql: "SELECT id, name, v FROM t", key: "%s"}
  r: {database: "%s", sql: "SELECT id, name, v FROM t", key: "%s"}
invariants:
  - name: m
    match: {left: l, right: r, fields: [{name: v, type: int}]}
`, left, key, right, key)
		rules, err := ParseRules(strings.NewReader(yaml), "stats.yaml")
		if err != nil {
			t.Fatal(err)
		}
		q, count, ok := rulesReader(t, rules).statsQuantiles(context.Background(), 16, 0)
		if !ok || len(q) < 10 || count < 15000 {
			t.Fatalf("%s: stats quantiles %v (%d cuts, count %d)", key, ok, len(q), count)
		}
		for _, opts := range []CheckOptions{{NoState: true, Workers: 3, NoChecksums: true}, {NoState: true, Workers: 2}} {
			rep, err := Check(context.Background(), rules, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Breaks) != 4 || rep.Counts[0].LeftRows != 20000 || rep.Counts[0].RightRows != 19999 {
				t.Errorf("%s %+v: %d breaks, %d/%d rows", key, opts, len(rep.Breaks), rep.Counts[0].LeftRows, rep.Counts[0].RightRows)
			}
		}
	}
}

func rulesReader(t *testing.T, rules *Rules) *sqlReader {
	t.Helper()
	db, err := openSQL(context.Background(), rules.Sources[0].URL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db.Reader(rules.Sources[0]).(*sqlReader)
}

// A stream closed before the end of its range is cancelled on the server,
// not drained (closing takes far less than reading the range), and the
// pool stays usable.
func TestStreamCloseEarly(t *testing.T) {
	u := env.PostgresDB(t)
	execAll(t, u, `CREATE TABLE t (id bigint PRIMARY KEY, v int, pad text)`,
		`INSERT INTO t SELECT i, i, repeat('x', 200) FROM generate_series(1, 300000) i`)
	rules, err := ParseRules(strings.NewReader(`sources:
  l: {database: "`+u+`", sql: "SELECT id, v, pad FROM t", key: "id:int"}
  r: {database: "`+u+`", sql: "SELECT id, v FROM t", key: "id:int"}
invariants:
  - name: m
    match: {left: l, right: r, fields: [{name: v, type: int}]}
`), "early.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := rulesReader(t, rules)
	ctx := context.Background()
	read := func(all bool) time.Duration {
		s, err := r.Stream(ctx, Range{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for n := 0; n == 0 || all; n++ {
			row, err := s.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if row == nil {
				break
			}
		}
		s.Close(ctx)
		return time.Since(start)
	}
	full := read(true)
	for i := 0; i < 3; i++ {
		if d := read(false); d > full/2 {
			t.Errorf("closing after one row took %v, reading all %v: drained?", d, full)
		}
	}
	if _, _, err := r.Quantiles(ctx, 4, 0); err != nil {
		t.Fatal(err)
	}
}
