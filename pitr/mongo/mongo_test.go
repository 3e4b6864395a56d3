package mongo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
	pm "github.com/tidemark/tidemark/pitr/mongo"
)

func TestMain(m *testing.M) { env.Main(m) }

// TestCollectionSnapshotAndRestore runs on the embedded FerretDB (no
// transactions, no $out, no operationTime): snapshot two collections,
// change them and a third, restore: the two are back, the third keeps its
// newer documents.
func TestCollectionSnapshotAndRestore(t *testing.T) {
	ctx, u, db := freshDB(t)
	orders, stock, events := db.Collection("orders"), db.Collection("stock"), db.Collection("events")
	var docs []any
	for i := 0; i < 1000; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "total", Value: i * 3}, {Key: "items", Value: bson.A{"a", i}}})
	}
	ok(t)(orders.InsertMany(ctx, docs))
	ok(t)(stock.InsertMany(ctx, []any{bson.D{{Key: "sku", Value: "x"}, {Key: "qty", Value: 5}}}))
	ok(t)(events.InsertOne(ctx, bson.D{{Key: "e", Value: 1}}))
	if _, err := orders.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "total", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	wantOrders, _ := sum(t, orders)
	wantStock, _ := sum(t, stock)

	p := openProvider(ctx, t, u)
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-9", Tables: []string{"orders", "stock"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Existing || len(m.Tables) != 2 || m.Tables[0].Rows != 1000 || m.Position.MarkerID == "" || m.Engine != "mongodb" {
		t.Fatalf("manifest: %+v", m)
	}
	t.Logf("position %+v notes %q timings %v", m.Position, m.Notes, m.Timings)
	again, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-9"})
	if err != nil || !again.Existing || again.CreatedAt != m.CreatedAt {
		t.Fatalf("second create: %+v %v", again, err)
	}
	if r, err := p.Verify(ctx, "deploy-9", pitr.VerifyOptions{Drill: true}); err != nil || !r.OK {
		t.Fatalf("verify: %+v %v", r, err)
	} else {
		t.Logf("verify timings %v", r.Timings)
	}

	// the bad deploy, and other writes that must survive
	ok(t)(orders.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: 20}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "total", Value: 0}}}}))
	ok(t)(stock.DeleteMany(ctx, bson.D{}))
	ok(t)(events.InsertOne(ctx, bson.D{{Key: "e", Value: 2}}))

	_, err = p.Restore(ctx, "deploy-9", pitr.RestoreOptions{AllTables: true})
	if !errors.Is(err, errkind.ErrPrecondition) {
		t.Fatalf("restore of changed collections without DiscardNewer: %v", err)
	}
	if _, err := p.Restore(ctx, "deploy-9", pitr.RestoreOptions{AllTables: true, DiscardNewer: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := sum(t, orders); got != wantOrders {
		t.Error("orders differ from the snapshot")
	}
	if got, _ := sum(t, stock); got != wantStock {
		t.Error("stock differs from the snapshot")
	}
	if n, _ := events.CountDocuments(ctx, bson.D{}); n != 2 {
		t.Errorf("events: %d documents, want 2", n)
	}
	idx, _ := orders.Indexes().ListSpecifications(ctx)
	if len(idx) != 2 {
		t.Errorf("orders indexes after restore: %d, want 2", len(idx))
	}
	if ms, err := p.List(ctx); err != nil || len(ms) != 1 {
		t.Fatalf("list: %d %v", len(ms), err)
	}
}

// freshDB is a fresh database on the embedded FerretDB, connected, with a
// context that ends with the test.
func freshDB(t *testing.T) (context.Context, *dburl.URL, *mongo.Database) {
	t.Helper()
	raw := env.MongoDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	u, err := dburl.Parse(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return ctx, u, c.Database(u.Database())
}

// openProvider opens the snapshot provider on u, closed when the test ends.
func openProvider(ctx context.Context, t *testing.T, u *dburl.URL) pitr.Provider {
	t.Helper()
	p, err := pitr.Open(ctx, u, pitr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

func ok(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func sum(t *testing.T, c *mongo.Collection) (string, int64) {
	n, s, err := pm.Checksum(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return s, n
}
