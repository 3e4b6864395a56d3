package migrator

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/fixtures/env"
)

// FerretDB has no multi-document transactions: every MongoDB migration runs
// command by command with progress recorded, and resumes after a failure.
func TestMongoUpResumeDownStatus(t *testing.T) {
	ctx := context.Background()
	raw := env.MongoDB(t)
	dir := writeFiles(t, map[string]string{
		"001_orders.up.json": `[
  {"create": "orders"},
  {"insert": "orders", "documents": [{"_id": 1, "total": 10}]}
]`,
		"001_orders.down.json": `[{"drop": "orders"}]`,
		"002_seed.up.json": `[
  {"insert": "orders", "documents": [{"_id": 2, "total": 20}]},
  {"insert": "orders", "documents": [{"_id": 1, "total": 99}]},
  {"insert": "orders", "documents": [{"_id": 3, "total": 30}]}
]`,
		"002_seed.down.json": `[{"delete": "orders", "deletes": [{"q": {"_id": {"$in": [2, 3]}}, "limit": 0}]}]`,
	})
	m := openPGT(t, raw, dir, Options{})
	res, err := m.Up(ctx, 0)
	if err == nil || !strings.Contains(err.Error(), "002_seed.up.json:3: statement 2 failed") || res.To != 1 {
		t.Fatalf("up: %+v %v", res, err)
	}
	st, err := m.Status(ctx)
	if err != nil || len(st.Unfinished) != 1 || st.Unfinished[0].StatementsDone != 1 || st.Current != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	writeTo(t, dir, "002_seed.up.json", `[
  {"insert": "orders", "documents": [{"_id": 2, "total": 20}]},
  {"update": "orders", "updates": [{"q": {"_id": 1}, "u": {"$set": {"total": 99}}}]},
  {"insert": "orders", "documents": [{"_id": 3, "total": 30}]}
]`)
	m2 := openPGT(t, raw, dir, Options{})
	if res, err = m2.Up(ctx, 0); err != nil || res.To != 2 || res.Steps[0].ResumedFrom != 1 {
		t.Fatalf("resume: %+v %v", res, err)
	}
	if n := countOrders(t, raw); n != 3 {
		t.Fatalf("orders = %d, want 3", n)
	}
	if res, err = m2.Down(ctx, 1); err != nil || res.To != 1 {
		t.Fatalf("down: %+v %v", res, err)
	}
	if n := countOrders(t, raw); n != 1 {
		t.Fatalf("orders after down = %d, want 1", n)
	}
	if st, err = m2.Status(ctx); err != nil || len(st.History) != 4 || len(st.Pending) != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
}

func countOrders(t *testing.T, raw string) int64 {
	t.Helper()
	ctx := context.Background()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	u := strings.TrimPrefix(raw[strings.LastIndex(raw, "/"):], "/")
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	n, err := c.Database(u).Collection("orders").CountDocuments(ctx, bson.M{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
