package reconcile

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/tidemark/tidemark/fixtures/env"
)

// streamRanges streams every range of cuts from r and returns each key
// read (by keyID) with how often it was read; a row outside its range or
// out of key order fails the test when ordered.
func streamRanges(t *testing.T, r reader, cols []KeyColumn, cuts [][]any, ordered bool) map[string]int {
	t.Helper()
	ranges, err := rangesFromCuts(cols, cuts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ranges) != len(cuts)+1 {
		t.Fatalf("%d ranges from %d cuts", len(ranges), len(cuts))
	}
	ctx := context.Background()
	seen := map[string]int{}
	for i, rng := range ranges {
		s, err := r.Stream(ctx, rng)
		if err != nil {
			t.Fatal(err)
		}
		var last Key
		for {
			row, err := s.Next(ctx)
			if err != nil {
				t.Fatalf("range %d: %v", i, err)
			}
			if row == nil {
				break
			}
			if !rng.contains(row.Key) {
				t.Errorf("range %d: key %s outside it", i, keyString(row.KeyVals))
			}
			if ordered && last != nil && row.Key.Compare(last) < 0 {
				t.Errorf("range %d: key %s out of order", i, keyString(row.KeyVals))
			}
			last = row.Key
			seen[keyID(t, cols, row.KeyVals)]++
		}
		s.Close(ctx)
	}
	return seen
}

// wantOnce checks that each key of js was read exactly once, and nothing else.
func wantOnce(t *testing.T, k keyKind, seen map[string]int, js []int) {
	t.Helper()
	for _, j := range js {
		id := keyID(t, k.cols, k.pg(j))
		if seen[id] != 1 {
			t.Errorf("key %d (%v) read %d times", j, k.pg(j), seen[id])
		}
		delete(seen, id)
	}
	for id, n := range seen {
		t.Errorf("key %s read %d times, not in the source", id, n)
	}
}

// Ranges of a MongoDB source select each document exactly once, whatever
// the cuts: keys the source has, keys between them, timestamps finer than
// the milliseconds BSON dates hold (also in a composite key's first
// column), in every stored form of the key.
func TestMongoRangesPartitionDocuments(t *testing.T) {
	mg := env.MongoDB(t)
	kinds := append(slices.Clone(keyKinds), keyKind{name: "timestamp int", spec: `["k:timestamp", "n:int"]`,
		cols: []KeyColumn{{Name: "k", Type: KeyTimestamp}, {Name: "n", Type: KeyInt}},
		mongo: func(j int) bson.D {
			return bson.D{{Key: "k", Value: primitive.NewDateTimeFromTime(keyTime(j / 4))}, {Key: "n", Value: j % 4}}
		},
		pg: func(j int) []any { return []any{keyTime(j / 4), int64(j % 4)} }})
	for ci, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			coll := "p" + string(rune('a'+ci))
			left, _ := sides(200, nil)
			writeMongo(t, mg, coll, k, left)
			rules := rangeRules(t, mongoSource("a", mg, coll, k.spec), mongoSource("b", mg, coll, k.spec))
			r := readerOf(t, rules, "a")
			var cuts [][]any
			for _, j := range []int{1, 2, 51, 100, 101, 102, 203, 398, 399} {
				cuts = append(cuts, canonicalKey(k.cols, k.pg(j)))
			}
			if k.cols[0].Type == KeyTimestamp { // 500 µs after a key's time: between dates
				for _, j := range []int{150, 250, 303} {
					c := canonicalKey(k.cols, k.pg(j))
					c[0] = c[0].(int64) + 500
					cuts = append(cuts, c)
				}
				sortCuts(k.cols, cuts)
			}
			var js []int
			for _, row := range left {
				js = append(js, row.j)
			}
			wantOnce(t, k, streamRanges(t, r, k.cols, cuts, true), js)
			if kt, err := r.(*mongoReader).storedKeyTypes(context.Background()); err != nil || !kt.bounded {
				t.Errorf("key types %+v, %v: want bounded", kt, err)
			}
		})
	}
}

// A uuid column holding both strings and BinData (or a document without
// the key) cannot be bounded on the server: its ranges read every document
// and keep those inside, so none is lost or read twice.
func TestMongoRangesMixedKeyTypes(t *testing.T) {
	mg := env.MongoDB(t)
	k := keyKinds[1]
	coll := mongoColl(t, mg, "mixed")
	var js []int
	for j := 0; j < 120; j += 2 {
		u := uuidJ(j)
		var v any = UUID(u).String()
		if j%3 == 0 {
			v = primitive.Binary{Subtype: 4, Data: u[:]}
		}
		if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "k", Value: v}, {Key: "v", Value: j}}); err != nil {
			t.Fatal(err)
		}
		js = append(js, j)
	}
	rules := rangeRules(t, mongoSource("a", mg, "mixed", k.spec), mongoSource("b", mg, "empty", k.spec))
	r := readerOf(t, rules, "a")
	var cuts [][]any
	for _, j := range []int{10, 31, 60, 100} {
		cuts = append(cuts, canonicalKey(k.cols, k.pg(j)))
	}
	wantOnce(t, k, streamRanges(t, r, k.cols, cuts, false), js)
	if kt, _ := r.(*mongoReader).storedKeyTypes(context.Background()); kt.bounded {
		t.Error("mixed key types bounded")
	}
	if q, _, err := r.Quantiles(context.Background(), 4, 0); err != nil || q != nil {
		t.Errorf("quantiles of mixed key types: %v, %v; want none (one range)", q, err)
	}
	wantOnce(t, k, streamRanges(t, readerOf(t, rules, "b"), k.cols, cuts, true), nil)
}
