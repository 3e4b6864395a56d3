package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
)

// TestSnapshotCLIMongo: collection snapshot, verify --drill and restore of
// collections through the CLI, on the embedded FerretDB.
func TestSnapshotCLIMongo(t *testing.T) {
	raw := env.MongoDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	u, _ := dburl.Parse(raw, "")
	coll := c.Database(u.Database()).Collection("orders")
	if _, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "total", Value: 10}}, bson.D{{Key: "_id", Value: 2}, {Key: "total", Value: 20}}}); err != nil {
		t.Fatal(err)
	}
	db := "--database=" + raw
	out, _ := mustExit2(t, 0, "snapshot", "create", db, "--label", "m1", "--collections", "orders", "--output", "json")
	if !strings.Contains(out, `"engine": "mongodb"`) || !strings.Contains(out, `"rows": 2`) {
		t.Fatalf("create: %s", out)
	}
	if out := mustExit(t, 0, "snapshot", "create", db, "--label", "m1"); !strings.Contains(out, "already exists") {
		t.Fatalf("second create: %s", out)
	}
	mustExit(t, 2, "snapshot", "create", db, "--label", "m2", "--collections", "nope")
	mustExit(t, 0, "snapshot", "verify", "m1", db, "--drill")
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	mustExit(t, 3, "snapshot", "restore", "m1", db, "--collections", "orders")
	mustExit(t, 0, "snapshot", "restore", "m1", db, "--collections", "orders", "--discard-newer")
	if n, _ := coll.CountDocuments(ctx, bson.D{}); n != 2 {
		t.Fatalf("orders after restore: %d documents", n)
	}
	mustExit(t, 2, "snapshot", "restore", "m1", db, "--target-dir", t.TempDir())
}
