package reconcile

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/tidemark/tidemark/fixtures/env"
)

// keyKind generates keys in key order: key j sorts before key j+1, the
// same on both engines. Sources hold the even keys; odd keys are rows
// only one side has.
type keyKind struct {
	name  string
	spec  string // the rules' key
	pgDDL string // the key columns of the PostgreSQL table
	cols  []KeyColumn
	mongo func(j int) bson.D // the key fields of key j as MongoDB stores them
	pg    func(j int) []any  // the key values of key j for PostgreSQL
}

var rangeBase = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func uuidJ(j int) [16]byte {
	u, _ := toUUID(fmt.Sprintf("%08x-0000-4000-8000-%012x", j*7, j))
	return u
}

func keyTime(j int) time.Time { return rangeBase.Add(time.Duration(j) * 1001 * time.Millisecond) }

func oneKey(name string, t KeyType) []KeyColumn { return []KeyColumn{{Name: name, Type: t}} }

var keyKinds = []keyKind{
	{"int", `"k:int"`, "k bigint", oneKey("k", KeyInt),
		func(j int) bson.D {
			if j%3 == 0 { // int32 and int64 side by side: one BSON number type
				return bson.D{{Key: "k", Value: int32(3*j - 3000)}}
			}
			return bson.D{{Key: "k", Value: int64(3*j - 3000)}}
		},
		func(j int) []any { return []any{int64(3*j - 3000)} }},
	{"uuid string", `"k:uuid"`, "k uuid", oneKey("k", KeyUUID),
		func(j int) bson.D { return bson.D{{Key: "k", Value: UUID(uuidJ(j)).String()}} },
		func(j int) []any { return []any{uuidJ(j)} }},
	{"uuid upper-case string", `"k:uuid"`, "k uuid", oneKey("k", KeyUUID),
		func(j int) bson.D { return bson.D{{Key: "k", Value: strings.ToUpper(UUID(uuidJ(j)).String())}} },
		func(j int) []any { return []any{uuidJ(j)} }},
	{"uuid BinData", `"k:uuid"`, "k uuid", oneKey("k", KeyUUID),
		func(j int) bson.D {
			u := uuidJ(j)
			return bson.D{{Key: "k", Value: primitive.Binary{Subtype: 4, Data: u[:]}}}
		},
		func(j int) []any { return []any{uuidJ(j)} }},
	{"timestamp", `"k:timestamp"`, "k timestamptz", oneKey("k", KeyTimestamp),
		func(j int) bson.D { return bson.D{{Key: "k", Value: primitive.NewDateTimeFromTime(keyTime(j))}} },
		func(j int) []any { return []any{keyTime(j)} }},
	{"text int", `["k:text", "n:int"]`, "k text, n int", []KeyColumn{{Name: "k", Type: KeyText}, {Name: "n", Type: KeyInt}},
		func(j int) bson.D {
			return bson.D{{Key: "k", Value: fmt.Sprintf("g%04d", j/20)}, {Key: "n", Value: int32(j % 20)}}
		},
		func(j int) []any { return []any{fmt.Sprintf("g%04d", j/20), int64(j % 20)} }},
}

// keyRow is one row of a generated source: key j, field v.
type keyRow struct{ j, v int }

// injection is the breaks put into the right side: key j -> break kind.
type injection map[int]string

// sides returns the left rows (even keys 0..2n-2, v = j) and the right
// rows with inj applied (keys up to 2n+1).
func sides(n int, inj injection) (left, right []keyRow) {
	for j := 0; j < 2*n+2; j++ {
		kind := inj[j]
		if j%2 == 0 && j < 2*n {
			left = append(left, keyRow{j, j})
		}
		switch {
		case kind == "missing_right", (j%2 == 1 || j >= 2*n) && kind != "missing_left":
		case kind == "mismatch":
			right = append(right, keyRow{j, j + 1})
		case kind == "duplicate":
			right = append(right, keyRow{j, j}, keyRow{j, j})
		default:
			right = append(right, keyRow{j, j})
		}
	}
	return left, right
}

func writeMongo(t *testing.T, url, coll string, k keyKind, rows []keyRow) {
	t.Helper()
	docs := make([]any, len(rows))
	for i, r := range rows {
		docs[i] = append(k.mongo(r.j), bson.E{Key: "v", Value: int64(r.v)})
	}
	if _, err := mongoColl(t, url, coll).InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
}

func writePG(t *testing.T, url, table string, k keyKind, rows []keyRow) {
	t.Helper()
	execAll(t, url, "CREATE TABLE "+table+" ("+k.pgDDL+", v int)")
	var names []string
	for _, c := range k.cols {
		names = append(names, c.Name)
	}
	vals := make([][]any, len(rows))
	for i, r := range rows {
		vals[i] = append(k.pg(r.j), r.v)
	}
	if _, err := connect(t, url).CopyFrom(context.Background(), pgx.Identifier{table}, append(names, "v"), pgx.CopyFromRows(vals)); err != nil {
		t.Fatal(err)
	}
}

// keyID identifies a key whatever engine and form it came in.
func keyID(t *testing.T, cols []KeyColumn, vals []any) string {
	t.Helper()
	k, err := encodeKey(nil, cols, vals)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(k)
}

func wantFindings(t *testing.T, k keyKind, inj injection) []string {
	var out []string
	for j, kind := range inj {
		out = append(out, kind+"/"+keyID(t, k.cols, k.pg(j)))
	}
	slices.Sort(out)
	return out
}

func gotFindings(t *testing.T, k keyKind, rep *Report) []string {
	out := []string{}
	for _, b := range rep.Breaks {
		out = append(out, b.Kind+"/"+keyID(t, k.cols, b.KeyValues))
	}
	for _, b := range rep.InFlight {
		t.Errorf("in flight: %s %s: %s", b.Kind, b.Key, b.Reason)
	}
	slices.Sort(out)
	return out
}

// readerOf opens the reader of a rules source, closed at cleanup.
func readerOf(t *testing.T, rules *Rules, name string) reader {
	t.Helper()
	dbs, err := openDatabases(context.Background(), rules, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAll(context.Background(), dbs) })
	for _, s := range rules.Sources {
		if s.Name == name {
			return dbs[s.Database].Reader(s)
		}
	}
	t.Fatalf("no source %s", name)
	return nil
}

// cutJs returns the key numbers j of the cuts a reader makes into n ranges.
func cutJs(t *testing.T, r reader, k keyKind, n, keys int) []int {
	t.Helper()
	cuts, count, err := r.Quantiles(context.Background(), n, 0)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]int{}
	for j := 0; j < keys; j++ {
		byID[keyID(t, k.cols, k.pg(j))] = j
	}
	var out []int
	for _, c := range cuts {
		j, ok := byID[keyID(t, k.cols, c)]
		if !ok {
			t.Fatalf("cut %v is not a key of the source", c)
		}
		out = append(out, j)
	}
	t.Logf("%d rows, cuts at keys %v", count, out)
	if len(out) != n-1 || count != int64(keys/2) {
		t.Fatalf("%d cuts for %d ranges, %d rows", len(out), n, count)
	}
	for i, j := range out { // even keys: j/2 rows before the cut
		if want := (i + 1) * keys / 2 / n; j/2 < want*9/10 || j/2 > want*11/10 {
			t.Errorf("cut %d after %d rows, want about %d", i+1, j/2, want)
		}
	}
	return out
}

// boundaryBreaks puts breaks on both sides of each cut (a cut is the first
// key of its range) and some elsewhere.
func boundaryBreaks(cuts []int, n int) injection {
	inj := injection{}
	kinds := []string{"missing_right", "mismatch", "duplicate"}
	for i, c := range cuts {
		inj[c] = kinds[i%3]
		inj[c-2] = kinds[(i+1)%3] // the last key of the range before
		inj[c-1] = "missing_left" // between them
		inj[c+1] = "missing_left"
	}
	for j := 100; j < 2*n; j += 194 {
		if _, ok := inj[j]; !ok {
			inj[j] = "mismatch"
		}
	}
	inj[2*n+1] = "missing_left" // after the last key
	return inj
}

func rangeRules(t *testing.T, left, right string) *Rules {
	t.Helper()
	yaml := "sources:\n" + left + right + `invariants:
  - name: m
    match: {left: a, right: b, fields: [{name: v, type: int}]}
`
	rules, err := ParseRules(strings.NewReader(yaml), "ranges.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, yaml)
	}
	return rules
}

func mongoSource(name, url, coll, key string) string {
	return "  " + name + ": {database: \"" + url + "\", collection: " + coll + ", projection: {_id: 0}, key: " + key + ", batch: 100}\n"
}

func pgSource(name, url, table, key string) string {
	return "  " + name + ": {database: \"" + url + "\", sql: \"SELECT * FROM " + table + "\", key: " + key + "}\n"
}

// checkRanges runs rules with 4 workers and 8 ranges and compares the
// findings and row counts with what was injected.
func checkRanges(t *testing.T, rules *Rules, k keyKind, inj injection, left, right []keyRow, opts CheckOptions) *Report {
	t.Helper()
	opts.Workers, opts.Ranges = 4, 8
	rep, err := Check(context.Background(), rules, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := gotFindings(t, k, rep), wantFindings(t, k, inj); !slices.Equal(got, want) {
		t.Errorf("findings\n got %q\nwant %q", got, want)
	}
	c := rep.Counts[0]
	if c.Ranges < 2 || c.LeftRows != int64(len(left)) || c.RightRows != int64(len(right)) {
		t.Errorf("%d ranges, %d left rows, %d right rows; want > 1 ranges, %d and %d rows", c.Ranges, c.LeftRows, c.RightRows, len(left), len(right))
	}
	return rep
}

// A MongoDB left source is cut into key ranges at its key quantiles, for
// every key type, against a PostgreSQL right side: breaks at the range
// boundaries are each found once, nothing else is.
func TestMongoLeftSourceRanges(t *testing.T) {
	const n = 1500
	for _, k := range keyKinds {
		t.Run(k.name, func(t *testing.T) {
			mg, pg := env.MongoDB(t), env.PostgresDB(t)
			left, _ := sides(n, nil)
			writeMongo(t, mg, "a", k, left)
			checkAgainstPostgres(t, mongoSource("a", mg, "a", k.spec), pg, k, n, left)
		})
	}
}

// checkAgainstPostgres compares the MongoDB left source a (src, holding
// left) with a PostgreSQL table b of the same rows and breaks on both sides
// of the cuts of 8 ranges.
func checkAgainstPostgres(t *testing.T, src, pg string, k keyKind, n int, left []keyRow) {
	t.Helper()
	rules := rangeRules(t, src, pgSource("b", pg, "b", k.spec))
	inj := boundaryBreaks(cutJs(t, readerOf(t, rules, "a"), k, 8, 2*n), n)
	_, right := sides(n, inj)
	writePG(t, pg, "b", k, right)
	checkRanges(t, rules, k, inj, left, right, CheckOptions{NoState: true})
}

// The other way round: ranges cut on a PostgreSQL left source apply to a
// MongoDB right side, whose bounds take the type it stores.
func TestMongoRightSourceRanges(t *testing.T) {
	const n = 1500
	for _, k := range keyKinds[1:] {
		t.Run(k.name, func(t *testing.T) {
			mg, pg := env.MongoDB(t), env.PostgresDB(t)
			inj := injection{}
			kinds := []string{"missing_right", "mismatch", "duplicate", "missing_left"}
			for i, j := 0, 4; j < 2*n; i, j = i+1, j+58 {
				if kind := kinds[i%4]; kind == "missing_left" {
					inj[j+1] = kind // a key only the right side has
				} else {
					inj[j] = kind
				}
			}
			left, right := sides(n, inj)
			writePG(t, pg, "a", k, left)
			writeMongo(t, mg, "b", k, right)
			rules := rangeRules(t, pgSource("a", pg, "a", k.spec), mongoSource("b", mg, "b", k.spec))
			checkRanges(t, rules, k, inj, left, right, CheckOptions{NoState: true})
		})
	}
}
