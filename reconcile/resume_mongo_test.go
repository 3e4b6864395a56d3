package reconcile

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/tidemark/tidemark/fixtures/env"
)

// A MongoDB pipeline source is cut too: the key is a field the pipeline
// computes (FerretDB 1.24 computes fields in $group only: $addFields and
// $project take "$key" as a string), the range filter a $match after it.
func TestMongoPipelineSourceRanges(t *testing.T) {
	const n = 1500
	k := keyKinds[0]
	mg, pg := env.MongoDB(t), env.PostgresDB(t)
	left, _ := sides(n, nil)
	docs := make([]any, 0, len(left)+1)
	for _, r := range left { // stored as "key"; the pipeline groups by it
		docs = append(docs, bson.D{{Key: "key", Value: k.mongo(r.j)[0].Value}, {Key: "v", Value: int64(r.v)}})
	}
	docs = append(docs, bson.D{{Key: "key", Value: 99999}, {Key: "v", Value: -1}}) // the pipeline drops it
	if _, err := mongoColl(t, mg, "a").InsertMany(context.Background(), docs); err != nil {
		t.Fatal(err)
	}
	src := `  a:
    database: "` + mg + `"
    collection: a
    pipeline: [{$match: {v: {$gte: 0}}}, {$group: {_id: "$key", v: {$sum: "$v"}}}]
    key: "_id:int"
    batch: 100
`
	checkAgainstPostgres(t, src, pg, k, n, left)
}

// A killed run over a MongoDB left source resumes from its per-range
// checkpoints (kept in the PostgreSQL source's database): the ranges done
// are not read again and the findings are the same.
func TestMongoKilledRunResumes(t *testing.T) {
	const n = 1500
	for _, k := range []keyKind{keyKinds[3], keyKinds[4]} { // uuid BinData, timestamp
		t.Run(k.name, func(t *testing.T) {
			mg, pg := env.MongoDB(t), env.PostgresDB(t)
			left, _ := sides(n, nil)
			writeMongo(t, mg, "a", k, left)
			rules := rangeRules(t, mongoSource("a", mg, "a", k.spec), pgSource("b", pg, "b", k.spec))
			inj := boundaryBreaks(cutJs(t, readerOf(t, rules, "a"), k, 8, 2*n), n)
			_, right := sides(n, inj)
			writePG(t, pg, "b", k, right)
			stop, done := errors.New("killed"), 0
			_, err := Check(context.Background(), rules, CheckOptions{Workers: 1, Ranges: 8, AfterRange: func(string, int) error {
				if done++; done == 3 {
					return stop
				}
				return nil
			}})
			if !errors.Is(err, stop) {
				t.Fatalf("first run: %v", err)
			}
			rep := checkRanges(t, rules, k, inj, left, right, CheckOptions{})
			if c := rep.Counts[0]; !rep.Resumed || c.RangesResumed != 3 || c.Ranges != 8 {
				t.Errorf("resumed %v, %d of %d ranges; want 3 of 8", rep.Resumed, c.RangesResumed, c.Ranges)
			}
		})
	}
}
