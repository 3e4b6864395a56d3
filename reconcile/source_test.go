package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/tidemark/tidemark/fixtures/env"
)

// Text keys merge in byte order on both engines (PostgreSQL COLLATE "C",
// MongoDB binary order), composite keys page correctly with tiny batches,
// and uuid keys match whatever their case in MongoDB.
func TestCrossEngineKeyOrder(t *testing.T) {
	pg, mg := env.PostgresDB(t), env.MongoDB(t)
	texts := []string{"a", "B", "Ä", "b", "ab", "a b", "Z", "é", "e", "10", "9", "aa"}
	execAll(t, pg, `CREATE TABLE t (k text, n int, v int, PRIMARY KEY (k, n))`,
		`CREATE TABLE u (id uuid PRIMARY KEY, v int)`)
	c := connect(t, pg)
	coll, ucoll := mongoColl(t, mg, "t"), mongoColl(t, mg, "u")
	ctx := context.Background()
	for i, s := range texts {
		for n := 1; n <= 2; n++ {
			mustExec(t, c, `INSERT INTO t VALUES ($1, $2, $3)`, s, n, i*10+n)
			v := i*10 + n
			if s == "é" && n == 2 {
				v = -1 // the one difference
			}
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "k", Value: s}, {Key: "n", Value: n}, {Key: "v", Value: v}}); err != nil {
				t.Fatal(err)
			}
		}
		id := fmt.Sprintf("%08x-aaaa-4bbb-8ccc-%012d", i*99991, i)
		mustExec(t, c, `INSERT INTO u VALUES ($1, $2)`, id, i)
		if _, err := ucoll.InsertOne(ctx, bson.D{{Key: "id", Value: strings.ToUpper(id)}, {Key: "v", Value: int64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	yaml := `sources:
  pg: {database: "` + pg + `", sql: "SELECT k, n, v FROM t", key: ["k:text", "n:int"], batch: 2}
  mg: {database: "` + mg + `", collection: t, projection: {_id: 0}, key: ["k:text", "n:int"], batch: 2}
  pgu: {database: "` + pg + `", sql: "SELECT id, v FROM u", key: "id:uuid", batch: 3}
  mgu: {database: "` + mg + `", collection: u, key: "id:uuid", batch: 3}
  mgp:
    database: "` + mg + `"
    collection: t
    pipeline: [{$match: {n: 1}}, {$project: {_id: 0, k: 1, n: 1, v: 1}}]
    key: ["k:text", "n:int"]
    batch: 2
invariants:
  - name: p
    match: {left: {source: pg, where: {n: 1}}, right: mgp, fields: [{name: v, type: int}]}
  - name: t
    match: {left: pg, right: mg, fields: [{name: v, type: int}]}
  - name: u
    match: {left: pgu, right: mgu, fields: [{name: v, type: int}]}
`
	rules, err := ParseRules(strings.NewReader(yaml), "keys.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Check(ctx, rules, CheckOptions{Workers: 2, NoState: true})
	if err != nil {
		t.Fatal(err)
	}
	got := findingSet(rep)
	if len(got) != 1 || got[0] != "t/mismatch/(é, 2)" {
		t.Errorf("findings %q, want only t/mismatch/(é, 2)", got)
	}
	for _, c := range rep.Counts {
		if c.Invariant != "p" && c.LeftRows != c.RightRows || c.LeftRows == 0 {
			t.Errorf("%s: %d left rows, %d right rows", c.Invariant, c.LeftRows, c.RightRows)
		}
	}
}
