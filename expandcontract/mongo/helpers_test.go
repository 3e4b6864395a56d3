package mongo_test

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	ecmongo "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/fixtures/env"
)

type testDB struct {
	t      *testing.T
	ctx    context.Context
	client *mongo.Client
	name   string
	db     *mongo.Database
}

func openDB(t *testing.T) *testDB {
	t.Helper()
	u := env.MongoDB(t)
	return connect(t, u)
}

func connect(t *testing.T, u string) *testDB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	t.Cleanup(cancel)
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(u))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	p, _ := url.Parse(u)
	name := strings.TrimPrefix(p.Path, "/")
	return &testDB{t: t, ctx: ctx, client: c, name: name, db: c.Database(name)}
}

func (d *testDB) opts() ecmongo.Options {
	return ecmongo.Options{BatchSize: 3, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

func (d *testDB) insert(coll string, docs ...bson.D) {
	d.t.Helper()
	for _, doc := range docs {
		if _, err := d.db.Collection(coll).InsertOne(d.ctx, doc); err != nil {
			d.t.Fatalf("insert into %s: %v", coll, err)
		}
	}
}

func (d *testDB) update(coll string, id any, set bson.D) {
	d.t.Helper()
	if _, err := d.db.Collection(coll).UpdateOne(d.ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}}); err != nil {
		d.t.Fatalf("update %s: %v", coll, err)
	}
}

// docs returns the collection's documents in _id order.
func (d *testDB) docs(coll string) []bson.D {
	d.t.Helper()
	cur, err := d.db.Collection(coll).Find(d.ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		d.t.Fatal(err)
	}
	var out []bson.D
	if err := cur.All(d.ctx, &out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

func (d *testDB) doc(coll string, id any) bson.M {
	d.t.Helper()
	var m bson.M
	if err := d.db.Collection(coll).FindOne(d.ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		d.t.Fatalf("read %s %v: %v", coll, id, err)
	}
	return m
}

func (d *testDB) indexes(coll string) []string {
	d.t.Helper()
	cur, err := d.db.Collection(coll).Indexes().List(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	var all []bson.M
	if err := cur.All(d.ctx, &all); err != nil {
		d.t.Fatal(err)
	}
	var names []string
	for _, ix := range all {
		names = append(names, ix["name"].(string))
	}
	return names
}

func (d *testDB) expand(migs ...*ecmongo.Migration) *ecmongo.Result {
	d.t.Helper()
	res, err := ecmongo.Expand(d.ctx, d.client, d.name, migs, d.opts())
	if err != nil {
		d.t.Fatalf("expand: %v", err)
	}
	return res
}

func (d *testDB) contract() *ecmongo.Result {
	d.t.Helper()
	res, err := ecmongo.Contract(d.ctx, d.client, d.name, d.opts())
	if err != nil {
		d.t.Fatalf("contract: %v", err)
	}
	return res
}

func (d *testDB) rollback() *ecmongo.Result {
	d.t.Helper()
	res, err := ecmongo.Rollback(d.ctx, d.client, d.name, d.opts())
	if err != nil {
		d.t.Fatalf("rollback: %v", err)
	}
	return res
}

func parse(t *testing.T, name, src string) *ecmongo.Migration {
	t.Helper()
	m, err := ecmongo.Parse(strings.NewReader(src), name)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

// noStamps fails if any document still carries a tidemark sync stamp.
func noStamps(t *testing.T, docs []bson.D) {
	t.Helper()
	for _, d := range docs {
		for _, e := range d {
			if strings.HasPrefix(e.Key, "_tidemark") {
				t.Errorf("document %v still has %s", d, e.Key)
			}
		}
	}
}

func sameDocs(t *testing.T, got, want []bson.D) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("documents differ:\n got %v\nwant %v", got, want)
	}
}
