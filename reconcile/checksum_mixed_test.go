package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/tidemark/tidemark/fixtures/env"
)

const mixedRows = 2000

const mixedRules = `sources:
  pg_id:
    database: ${MX_PG}
    sql: SELECT id, cents, note, at, flag, u, name, opt FROM t
    key: [id:int]
  pg_u:
    database: ${MX_PG}
    sql: SELECT u, note FROM t
    key: [u:uuid]
  mongo_id:
    database: ${MX_MONGO}
    collection: t
    projection: {_id: 0}
    key: [id:int]
  mongo_u:
    database: ${MX_MONGO}
    collection: t
    projection: {_id: 0}
    key: [u:uuid]
invariants:
  - name: by_id
    match:
      left: pg_id
      right: mongo_id
      fields:
        - {name: amount, left: cents, right: amount, type: money, right_unit: major}
        - note
        - {name: at, type: timestamp}
        - {name: at_s, left: at, right: at, type: timestamp, precision: s, tolerance: 2s}
        - {name: amount_tol, left: cents, right: amount, type: money, right_unit: major, tolerance: 3}
        - {name: flag, type: bool}
        - {name: u, type: uuid}
        - {name: name, case: insensitive}
        - opt
  - name: by_uuid
    match: {left: pg_u, right: mongo_u, fields: [note]}
  - name: mongo_left
    match:
      left: mongo_id
      right: pg_id
      fields: [note, {name: amount, left: amount, right: cents, type: money, left_unit: major}]
`

// mixedDoc is row i as the MongoDB side holds it: the same data as the
// PostgreSQL row in other BSON types (int32 and int64 keys, amounts in
// major units as doubles and strings, uuids as upper-case strings, NULL
// as null or as a missing field).
func mixedDoc(i int) bson.D {
	d := bson.D{{Key: "id", Value: int64(i)}}
	if i%3 == 0 {
		d[0].Value = int32(i)
	}
	var amount any = float64(i) + 0.05
	if i%2 == 1 { // FerretDB has no decimal128
		amount = fmt.Sprintf("%d.05", i)
	}
	if i%97 == 0 {
		amount = nil
	}
	if i%194 != 0 { // else missing: as NULL
		d = append(d, bson.E{Key: "amount", Value: amount})
	}
	var flag any = i%2 == 0
	if i%89 == 0 {
		flag = nil
	}
	var u any = strings.ToUpper(UUID(uuidJ(i)).String())
	d = append(d, bson.E{Key: "note", Value: fmt.Sprintf("note %d", i)},
		bson.E{Key: "at", Value: primitive.NewDateTimeFromTime(keyTime(i))},
		bson.E{Key: "flag", Value: flag}, bson.E{Key: "u", Value: u},
		bson.E{Key: "name", Value: fmt.Sprintf("NAME %d", i)})
	switch {
	case i%10 == 0: // missing
	case i%5 == 0:
		d = append(d, bson.E{Key: "opt", Value: nil})
	default:
		d = append(d, bson.E{Key: "opt", Value: fmt.Sprintf("o %d", i)})
	}
	return d
}

func setField(d bson.D, key string, v any) bson.D {
	d = slices.Clone(d)
	for i := range d {
		if d[i].Key == key {
			d[i].Value = v
			return d
		}
	}
	return append(d, bson.E{Key: key, Value: v})
}

func dropField(d bson.D, key string) bson.D {
	return slices.DeleteFunc(slices.Clone(d), func(e bson.E) bool { return e.Key == key })
}

// A PostgreSQL source against a MongoDB one: the PostgreSQL side hashes
// its ranges in SQL, the MongoDB side streams them and hashes in Go to
// the very same checksums, so equal data is equal by checksum in every
// sub-range (by integer key, bucketed in one query; by uuid key; with the
// MongoDB source on the left, cut at its own quantiles), and
// each difference, applied alone and undone, is found, with only its own
// sub-range streamed.
func TestChecksumsAcrossEngines(t *testing.T) {
	pg, mg := env.PostgresDB(t), env.MongoDB(t)
	execAll(t, pg, `CREATE TABLE t (id bigint PRIMARY KEY, cents bigint, note text, at timestamptz, flag boolean, u uuid, name text, opt text)`,
		fmt.Sprintf(`INSERT INTO t SELECT i, CASE WHEN i %% 97 <> 0 THEN 100 * i + 5 END, 'note ' || i,
			'2026-03-01 10:00:00+00'::timestamptz + i * interval '1001 milliseconds', CASE WHEN i %% 89 <> 0 THEN i %% 2 = 0 END,
			(lpad(to_hex(i * 7), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, -- uuidJ(i)
			'Name ' || i, CASE WHEN i %% 5 <> 0 THEN 'o ' || i END
			FROM generate_series(1, %d) i`, mixedRows))
	coll := mongoColl(t, mg, "t")
	docs := make([]any, mixedRows)
	for i := range docs {
		docs[i] = mixedDoc(i + 1)
	}
	if _, err := coll.InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MX_PG", pg)
	t.Setenv("MX_MONGO", mg)
	rules, err := ParseRules(strings.NewReader(mixedRules), "mixed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, streamed int, want ...string) {
		t.Helper()
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, NoState: true})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %.2fs", what, rep.Duration)
		got := findingSet(rep)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: findings %q, want %q", what, got, want)
		}
		for _, k := range rep.Counts {
			n := streamed
			if !slices.ContainsFunc(want, func(w string) bool { return strings.HasPrefix(w, k.Invariant+"/") }) {
				n = 0 // the difference is in a field this invariant does not compare
			}
			if wantSums := map[bool]string{false: "left-sql,right-go", true: "left-go,right-sql"}[k.Invariant == "mongo_left"]; k.Checksums != wantSums {
				t.Errorf("%s: %s: checksums %q, want %q", what, k.Invariant, k.Checksums, wantSums)
			}
			if k.Ranges < 4 || k.Ranges-k.RangesSkipped < min(1, n) || k.Ranges-k.RangesSkipped > n {
				t.Errorf("%s: %s: %d of %d sub-ranges equal by checksum, want all but %d", what, k.Invariant, k.RangesSkipped, k.Ranges, n)
			}
		}
	}
	check("equal data", 0)
	u := func(i int) string { return UUID(uuidJ(i)).String() }
	id, uid := func(kind string, i int) string { return fmt.Sprintf("by_id/%s/%d", kind, i) }, func(kind string, i int) string { return "by_uuid/" + kind + "/" + u(i) }
	ml := func(kind string, i int) string { return fmt.Sprintf("mongo_left/%s/%d", kind, i) }
	ctx := context.Background()
	replace := func(i int, d bson.D) {
		t.Helper()
		if _, err := coll.DeleteMany(ctx, bson.D{{Key: "id", Value: int64(i)}}); err != nil {
			t.Fatal(err)
		}
		if d != nil {
			if _, err := coll.InsertOne(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name     string
		apply    func()
		streamed int
		want     []string
	}{
		{"one cent", func() { replace(1001, setField(mixedDoc(1001), "amount", "1001.06")) }, 1, []string{id("mismatch", 1001), ml("mismatch", 1001)}},
		{"NULL against 0", func() { replace(1164, setField(mixedDoc(1164), "amount", 0.0)) }, 1, []string{id("mismatch", 1164), ml("mismatch", 1164)}},
		{"a missing field against a value", func() { replace(1200, dropField(mixedDoc(1200), "note")) }, 1, []string{id("mismatch", 1200), uid("mismatch", 1200), ml("mismatch", 1200)}},
		{"case", func() { replace(1300, setField(mixedDoc(1300), "note", "NOTE 1300")) }, 1, []string{id("mismatch", 1300), uid("mismatch", 1300), ml("mismatch", 1300)}},
		{"one millisecond", func() {
			replace(1400, setField(mixedDoc(1400), "at", primitive.NewDateTimeFromTime(keyTime(1400).Add(1e6))))
		}, 1, []string{id("mismatch", 1400)}},
		{"NULL against false", func() { replace(1513, setField(mixedDoc(1513), "flag", false)) }, 1, []string{id("mismatch", 1513)}},
		{"a uuid", func() { replace(1600, setField(mixedDoc(1600), "u", u(99999))) }, 2,
			[]string{id("mismatch", 1600), uid("missing_right", 1600), "by_uuid/missing_left/" + u(99999)}},
		{"notes swapped between rows", func() {
			replace(1700, setField(mixedDoc(1700), "note", "note 1701"))
			replace(1701, setField(mixedDoc(1701), "note", "note 1700"))
		}, 2, []string{id("mismatch", 1700), id("mismatch", 1701), uid("mismatch", 1700), uid("mismatch", 1701),
			ml("mismatch", 1700), ml("mismatch", 1701)}},
		{"a duplicate", func() {
			if _, err := coll.InsertOne(ctx, mixedDoc(1800)); err != nil {
				t.Fatal(err)
			}
		}, 1, []string{id("duplicate", 1800), uid("duplicate", 1800), ml("duplicate", 1800)}},
		{"a missing document", func() { replace(1900, nil) }, 1, []string{id("missing_right", 1900), uid("missing_right", 1900), ml("missing_left", 1900)}},
		{"an amount Go cannot read", func() { replace(2000, setField(mixedDoc(2000), "amount", "abc")) }, 1, []string{id("mismatch", 2000), ml("mismatch", 2000)}},
		{"NULL against a value", func() { replace(1951, setField(mixedDoc(1951), "opt", nil)) }, 1, []string{id("mismatch", 1951)}},
	}
	for _, tc := range cases {
		tc.apply()
		check(tc.name, tc.streamed, tc.want...)
		for _, w := range tc.want {
			if i, err := strconv.Atoi(strings.TrimPrefix(w, "by_id/"+strings.Split(w, "/")[1]+"/")); err == nil {
				replace(i, mixedDoc(i))
			}
		}
	}
	check("undone", 0)
}

// A PostgreSQL column SQL cannot normalise as Go does (an amount held as
// text) is hashed in Go against the other side's SQL: equal data is
// equal by checksum, a difference streams its own sub-range only, and so
// does a key duplicated identically on both sides (equal sums, but the
// side hashed in Go sees the key twice).
func TestChecksumsHashInGoWhatSQLCannotNormalise(t *testing.T) {
	left, right := env.PostgresDB(t), env.PostgresDB(t)
	execAll(t, left, `CREATE TABLE t (id bigint PRIMARY KEY, amount text)`, `CREATE TABLE dup (id bigint, amount text)`,
		`INSERT INTO t SELECT i, (i + 0.5)::text FROM generate_series(1, 4000) i`)
	execAll(t, right, `CREATE TABLE t (id bigint PRIMARY KEY, amount numeric(12,2))`, `CREATE TABLE dup (id bigint, amount numeric(12,2))`,
		`INSERT INTO t SELECT i, i + 0.5 FROM generate_series(1, 4000) i`)
	t.Setenv("CS_LEFT", left)
	t.Setenv("CS_RIGHT", right)
	rules, err := ParseRules(strings.NewReader(`sources:
  l: {database: "${CS_LEFT}", sql: "SELECT id, amount FROM t UNION ALL SELECT id, amount FROM dup", key: [id:int]}
  r: {database: "${CS_RIGHT}", sql: "SELECT id, amount FROM t UNION ALL SELECT id, amount FROM dup", key: [id:int]}
invariants:
  - name: amounts
    match: {left: l, right: r, fields: [{name: amount, type: decimal, scale: 2}]}
`), "text.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		streamed int
		want     []string
	}{{0, nil}, {1, []string{"amounts/mismatch/2500"}}, {2, []string{"amounts/duplicate/1200", "amounts/mismatch/2500"}}} {
		switch tc.streamed {
		case 1:
			execAll(t, left, `UPDATE t SET amount = '2500.51' WHERE id = 2500`)
		case 2: // the same duplicate on both sides: equal sums, but the side hashed in Go sees it
			execAll(t, left, `INSERT INTO dup VALUES (1200, '1200.5')`)
			execAll(t, right, `INSERT INTO dup VALUES (1200, 1200.5)`)
		}
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, NoState: true})
		if err != nil {
			t.Fatal(err)
		}
		got := findingSet(rep)
		if slices.Sort(got); !slices.Equal(got, tc.want) {
			t.Errorf("findings %q, want %q", got, tc.want)
		}
		if k := rep.Counts[0]; k.Checksums != "left-go,right-sql" || k.Ranges < 4 || k.Ranges-k.RangesSkipped != tc.streamed {
			t.Errorf("checksums %q, %d of %d sub-ranges equal by checksum, want left-go,right-sql and all but %d", k.Checksums, k.RangesSkipped, k.Ranges, tc.streamed)
		}
	}
}
