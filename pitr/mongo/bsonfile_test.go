package mongo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
	pm "github.com/tidemark/tidemark/pitr/mongo"
)

// fileFixture is a FerretDB database with orders (inserted out of _id
// order, with an index) and stock, and a provider on it.
type fileFixture struct {
	ctx           context.Context
	db            *mongo.Database
	orders, stock *mongo.Collection
	p             pitr.Provider
}

func newFileFixture(t *testing.T) *fileFixture {
	ctx, u, db := freshDB(t)
	f := &fileFixture{ctx: ctx, db: db}
	f.orders, f.stock = f.db.Collection("orders"), f.db.Collection("stock")
	var docs []any
	for i := 2499; i >= 0; i-- { // descending: the file must still be in _id order
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "total", Value: i * 3}, {Key: "note", Value: "alpha"}, {Key: "items", Value: bson.A{"a", i}}})
	}
	ok(t)(f.orders.InsertMany(ctx, docs))
	ok(t)(f.stock.InsertMany(ctx, []any{bson.D{{Key: "sku", Value: "x"}, {Key: "qty", Value: 5}}}))
	ok(t)(f.orders.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "total", Value: 1}}, Options: options.Index().SetName("by_total")}))
	f.p = openProvider(ctx, t, u)
	return f
}

// TestCollectionFileSnapshot: --table-dir writes mongodump-layout .bson
// files (in _id order) and metadata, with the same counts and checksums as
// the snapshot-database mode; verify and the drill re-read them; restore
// loads them on the side and swaps, refusing changed collections unless
// DiscardNewer.
func TestCollectionFileSnapshot(t *testing.T) {
	f := newFileFixture(t)
	ctx, dir := f.ctx, t.TempDir()
	m, err := f.p.Create(ctx, pitr.CreateOptions{Label: "deploy-f1", Tables: []string{"orders", "stock"}, TableDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	inDB, err := f.p.Create(ctx, pitr.CreateOptions{Label: "deploy-db1", Tables: []string{"orders", "stock"}})
	if err != nil {
		t.Fatal(err)
	}
	wantOrders, _ := sum(t, f.orders)
	wantStock, _ := sum(t, f.stock)
	for i, tb := range m.Tables {
		want := filepath.Join(dir, pm.SnapshotDB(f.db.Name(), "deploy-f1"), f.db.Name(), tb.Name+".bson")
		if tb.Copy != want || tb.Algo != pm.AlgoBSONSum || tb.Rows != inDB.Tables[i].Rows || tb.Checksum != inDB.Tables[i].Checksum {
			t.Fatalf("table %d: %+v, want copy %s and the snapshot database's %+v", i, tb, want, inDB.Tables[i])
		}
	}
	if m.Tables[0].Rows != 2500 || m.Tables[0].Checksum != wantOrders || m.Tables[1].Checksum != wantStock {
		t.Fatalf("manifest: %+v", m.Tables)
	}
	if m.SnapshotStore != filepath.Join(dir, pm.SnapshotDB(f.db.Name(), "deploy-f1")) || !strings.Contains(strings.Join(m.Requirements, ";"), ".bson files") {
		t.Fatalf("store %s, requirements %q", m.SnapshotStore, m.Requirements)
	}
	checkIDOrder(t, m.Tables[0].Copy, 2500)
	meta, err := os.ReadFile(strings.TrimSuffix(m.Tables[0].Copy, ".bson") + ".metadata.json")
	if err != nil || !strings.Contains(string(meta), `"by_total"`) || !strings.Contains(string(meta), `"collectionName":"orders"`) {
		t.Fatalf("metadata: %s %v", meta, err)
	}
	if r, err := f.p.Verify(ctx, "deploy-f1", pitr.VerifyOptions{Drill: true}); err != nil || !r.OK {
		t.Fatalf("verify: %+v %v", r, err)
	}

	ok(t)(f.orders.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$lt", Value: 20}}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "total", Value: 0}}}}))
	ok(t)(f.orders.InsertOne(ctx, bson.D{{Key: "_id", Value: 9999}}))
	ok(t)(f.stock.DeleteMany(ctx, bson.D{}))
	if _, err := f.p.Restore(ctx, "deploy-f1", pitr.RestoreOptions{Tables: []string{"orders"}}); !errors.Is(err, errkind.ErrPrecondition) {
		t.Fatalf("restore of a changed collection without DiscardNewer: %v", err)
	}
	res, err := f.p.Restore(ctx, "deploy-f1", pitr.RestoreOptions{Tables: []string{"orders"}, DiscardNewer: true})
	if err != nil || len(res.Tables) != 1 {
		t.Fatalf("restore: %+v %v", res, err)
	}
	if got, _ := sum(t, f.orders); got != wantOrders {
		t.Error("orders differ from the snapshot")
	}
	if n, _ := f.stock.CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("stock was not asked for but has %d documents", n)
	}
	if idx, _ := f.orders.Indexes().ListSpecifications(ctx); len(idx) != 2 {
		t.Errorf("orders indexes after restore: %d, want 2", len(idx))
	}
	if names, _ := f.db.ListCollectionNames(ctx, bson.D{}); len(names) != 2 {
		t.Errorf("collections left after restore: %v", names)
	}
}

// TestCollectionFileDamaged: a truncated, an edited or a missing .bson file
// fails verify and restore with ErrProblemsFound, and the live collection
// is left alone.
func TestCollectionFileDamaged(t *testing.T) {
	f := newFileFixture(t)
	ctx := f.ctx
	m, err := f.p.Create(ctx, pitr.CreateOptions{Label: "deploy-f2", Tables: []string{"orders"}, TableDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	path := m.Tables[0].Copy
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	live, _ := sum(t, f.orders)
	cases := []struct {
		name, want string
		damage     func() error
	}{
		{"truncated", "truncated", func() error { return os.WriteFile(path, good[:len(good)-7], 0o600) }},
		{"edited", "checksums differ", func() error {
			return os.WriteFile(path, bytes.Replace(good, []byte("alpha"), []byte("alphb"), 1), 0o600)
		}},
		{"garbage", "corrupt", func() error { return os.WriteFile(path, append(bytes.Clone(good), 1, 2, 3, 4, 5, 6), 0o600) }},
		{"missing", "no such file", func() error { return os.Remove(path) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.damage(); err != nil {
				t.Fatal(err)
			}
			r, err := f.p.Verify(ctx, "deploy-f2", pitr.VerifyOptions{})
			if !errors.Is(err, errkind.ErrProblemsFound) || r.OK || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("verify: %v (report %+v), want %q", err, r, c.want)
			}
			_, err = f.p.Restore(ctx, "deploy-f2", pitr.RestoreOptions{AllTables: true, DiscardNewer: true})
			if !errors.Is(err, errkind.ErrProblemsFound) {
				t.Fatalf("restore from a damaged file: %v", err)
			}
			if got, _ := sum(t, f.orders); got != live {
				t.Fatal("the live collection changed")
			}
		})
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if r, err := f.p.Verify(ctx, "deploy-f2", pitr.VerifyOptions{}); err != nil || !r.OK {
		t.Fatalf("verify after repair: %+v %v", r, err)
	}
	if _, err := f.p.Create(ctx, pitr.CreateOptions{Label: "x", TableDir: t.TempDir()}); !errors.Is(err, errkind.ErrUsage) {
		t.Fatalf("--table-dir without collections: %v", err)
	}
}

// TestRestoreDroppedCollection: a bad deploy dropped the collection; the
// restore (with DiscardNewer: a dropped collection is a change) brings it
// back, from a snapshot database or a .bson file; from the file with the
// indexes recorded in its metadata.json.
func TestRestoreDroppedCollection(t *testing.T) {
	f := newFileFixture(t)
	want, _ := sum(t, f.orders)
	for _, c := range []struct {
		label, dir string
		indexes    int
	}{{"dropped-db", "", 1}, {"dropped-file", t.TempDir(), 2}} {
		ok(t)(f.orders.Indexes().CreateOne(f.ctx, mongo.IndexModel{Keys: bson.D{{Key: "total", Value: 1}}, Options: options.Index().SetName("by_total")}))
		if _, err := f.p.Create(f.ctx, pitr.CreateOptions{Label: c.label, Tables: []string{"orders"}, TableDir: c.dir}); err != nil {
			t.Fatal(err)
		}
		if err := f.orders.Drop(f.ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := f.p.Restore(f.ctx, c.label, pitr.RestoreOptions{AllTables: true}); !errors.Is(err, errkind.ErrPrecondition) {
			t.Fatalf("%s: restore of a dropped collection without DiscardNewer: %v", c.label, err)
		}
		if _, err := f.p.Restore(f.ctx, c.label, pitr.RestoreOptions{AllTables: true, DiscardNewer: true}); err != nil {
			t.Fatalf("%s: %v", c.label, err)
		}
		if got, _ := sum(t, f.orders); got != want {
			t.Fatalf("%s: orders differ from the snapshot", c.label)
		}
		if idx, _ := f.orders.Indexes().ListSpecifications(f.ctx); len(idx) != c.indexes {
			t.Errorf("%s: %d indexes after restore, want %d", c.label, len(idx), c.indexes)
		}
	}
	if names, _ := f.db.ListCollectionNames(f.ctx, bson.D{}); len(names) != 2 {
		t.Errorf("collections left after restore: %v", names)
	}
}

// checkIDOrder reads a .bson file as mongorestore would (length-prefixed
// documents back to back) and checks there are n, in ascending _id order.
func checkIDOrder(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prev := int32(-1)
	count := 0
	for len(b) > 0 {
		doc, rest, ok := bsoncoreNext(b)
		if !ok {
			t.Fatalf("bad document %d", count)
		}
		id := doc.Lookup("_id").Int32()
		if id <= prev {
			t.Fatalf("document %d: _id %d after %d", count, id, prev)
		}
		prev, b, count = id, rest, count+1
	}
	if count != n {
		t.Fatalf("%d documents in %s, want %d", count, path, n)
	}
}

func bsoncoreNext(b []byte) (bson.Raw, []byte, bool) {
	if len(b) < 5 {
		return nil, nil, false
	}
	size := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	if size < 5 || size > len(b) || bson.Raw(b[:size]).Validate() != nil {
		return nil, nil, false
	}
	return bson.Raw(b[:size]), b[size:], true
}
