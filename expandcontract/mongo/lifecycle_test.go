package mongo_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// lifecycleCase is one operation's table entry: seed documents (ids < 100),
// then checks after expand (old- and new-shape reads, and writes of both
// shapes as ids >= 100), after contract and after rollback.
type lifecycleCase struct {
	name, coll, file string
	seed             []bson.D
	setup            func(t *testing.T, d *testDB)
	afterExpand      func(t *testing.T, d *testDB)
	afterContract    func(t *testing.T, d *testDB)
	afterRollback    func(t *testing.T, d *testDB)
}

func TestLifecycle(t *testing.T) {
	for _, tc := range lifecycleCases() {
		t.Run(tc.name+"/contract", func(t *testing.T) {
			d := openDB(t)
			d.insert(tc.coll, tc.seed...)
			if tc.setup != nil {
				tc.setup(t, d)
			}
			d.expand(parse(t, "m.yaml", tc.file))
			tc.afterExpand(t, d)
			d.contract()
			noStamps(t, d.docs(tc.coll))
			tc.afterContract(t, d)
		})
		t.Run(tc.name+"/rollback", func(t *testing.T) {
			d := openDB(t)
			d.insert(tc.coll, tc.seed...)
			if tc.setup != nil {
				tc.setup(t, d)
			}
			orig := d.docs(tc.coll)
			d.expand(parse(t, "m.yaml", tc.file))
			tc.afterExpand(t, d)
			d.rollback()
			all := d.docs(tc.coll)
			noStamps(t, all)
			sameDocs(t, all[:len(orig)], orig)
			tc.afterRollback(t, d)
		})
	}
}

func lifecycleCases() []lifecycleCase {
	return []lifecycleCase{
		{
			name: "add_field", coll: "items",
			file: "operations:\n  - add_field:\n      collection: items\n      field: total\n      up: {$multiply: [\"$qty\", \"$price\"]}\n",
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "qty", Value: 2}, {Key: "price", Value: 5}}, {{Key: "_id", Value: 2}, {Key: "qty", Value: 3}, {Key: "price", Value: 7}}},
			afterExpand: func(t *testing.T, d *testDB) {
				if got := d.doc("items", 2)["total"]; got != int32(21) {
					t.Errorf("new-shape read: total = %v, want 21", got)
				}
				if got := d.doc("items", 1)["qty"]; got != int32(2) {
					t.Errorf("old-shape read: qty = %v", got)
				}
				d.insert("items", bson.D{{Key: "_id", Value: 100}, {Key: "qty", Value: 4}, {Key: "price", Value: 4}})
				d.insert("items", bson.D{{Key: "_id", Value: 101}, {Key: "qty", Value: 1}, {Key: "price", Value: 1}, {Key: "total", Value: 99}})
			},
			afterContract: func(t *testing.T, d *testDB) {
				wantField(t, d, "items", 100, "total", int32(16))
				wantField(t, d, "items", 101, "total", int32(99))
				wantField(t, d, "items", 1, "total", int32(10))
			},
			afterRollback: func(t *testing.T, d *testDB) { wantNoField(t, d, "items", 101, "total") },
		},
		{
			name: "rename_field", coll: "customers",
			file: "name: rename_name\noperations:\n  - rename_field: {collection: customers, from: name, to: full_name}\n",
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "name", Value: "Ada"}}, {{Key: "_id", Value: 2}, {Key: "name", Value: "Bob"}}, {{Key: "_id", Value: 3}}},
			afterExpand: func(t *testing.T, d *testDB) {
				wantField(t, d, "customers", 1, "full_name", "Ada")
				wantField(t, d, "customers", 1, "name", "Ada")
				wantNoField(t, d, "customers", 3, "full_name")
				d.insert("customers", bson.D{{Key: "_id", Value: 100}, {Key: "name", Value: "Old"}})
				d.insert("customers", bson.D{{Key: "_id", Value: 101}, {Key: "full_name", Value: "New"}})
			},
			afterContract: func(t *testing.T, d *testDB) {
				wantField(t, d, "customers", 100, "full_name", "Old")
				wantField(t, d, "customers", 101, "full_name", "New")
				wantNoField(t, d, "customers", 1, "name")
				wantField(t, d, "customers", 2, "full_name", "Bob")
			},
			afterRollback: func(t *testing.T, d *testDB) {
				wantField(t, d, "customers", 101, "name", "New")
				wantNoField(t, d, "customers", 101, "full_name")
				wantField(t, d, "customers", 100, "name", "Old")
			},
		},
		{
			name: "change_field", coll: "payments",
			file: changeFieldFile,
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "amount", Value: "12.34"}}, {{Key: "_id", Value: 2}, {Key: "amount", Value: "1.5"}}, {{Key: "_id", Value: 3}, {Key: "amount", Value: "0.07"}}, {{Key: "_id", Value: 4}, {Key: "amount", Value: "1999.99"}}},
			afterExpand: func(t *testing.T, d *testDB) {
				wantField(t, d, "payments", 1, "amount_cents", int32(1234))
				wantField(t, d, "payments", 4, "amount_cents", int32(199999))
				wantField(t, d, "payments", 2, "amount", "1.5")
				d.insert("payments", bson.D{{Key: "_id", Value: 100}, {Key: "amount", Value: "3.10"}})
				d.insert("payments", bson.D{{Key: "_id", Value: 101}, {Key: "amount_cents", Value: 250}})
			},
			afterContract: func(t *testing.T, d *testDB) {
				wantField(t, d, "payments", 100, "amount_cents", int32(310))
				wantField(t, d, "payments", 101, "amount_cents", int32(250))
				wantField(t, d, "payments", 3, "amount_cents", int32(7))
				wantNoField(t, d, "payments", 2, "amount")
			},
			afterRollback: func(t *testing.T, d *testDB) {
				wantField(t, d, "payments", 101, "amount", "2.5")
				wantNoField(t, d, "payments", 100, "amount_cents")
			},
		},
		{
			name: "drop_field", coll: "users",
			file: "operations:\n  - drop_field:\n      collection: users\n      field: nickname\n      down: {$concat: [\"$first\", \"!\"]}\n",
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "first", Value: "Ann"}, {Key: "nickname", Value: "annie"}}},
			afterExpand: func(t *testing.T, d *testDB) {
				wantField(t, d, "users", 1, "nickname", "annie")
				d.insert("users", bson.D{{Key: "_id", Value: 100}, {Key: "first", Value: "Ned"}})
			},
			afterContract: func(t *testing.T, d *testDB) {
				wantNoField(t, d, "users", 1, "nickname")
				wantNoField(t, d, "users", 100, "nickname")
			},
			afterRollback: func(t *testing.T, d *testDB) { wantField(t, d, "users", 100, "nickname", "Ned!") },
		},
		{
			name: "create_index", coll: "accounts",
			file: "operations:\n  - create_index: {collection: accounts, name: accounts_email, keys: {email: 1}, unique: true}\n",
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "email", Value: "a@x"}}},
			afterExpand: func(t *testing.T, d *testDB) {
				wantIndex(t, d, "accounts", "accounts_email", true)
				if _, err := d.db.Collection("accounts").InsertOne(d.ctx, bson.D{{Key: "_id", Value: 100}, {Key: "email", Value: "a@x"}}); err == nil {
					t.Error("unique index did not reject a duplicate email")
				}
			},
			afterContract: func(t *testing.T, d *testDB) { wantIndex(t, d, "accounts", "accounts_email", true) },
			afterRollback: func(t *testing.T, d *testDB) { wantIndex(t, d, "accounts", "accounts_email", false) },
		},
		{
			name: "drop_index", coll: "logs",
			file: "operations:\n  - create_index: {collection: logs, name: logs_at, keys: [at]}\n  - drop_index: {collection: logs, name: logs_old}\n",
			seed: []bson.D{{{Key: "_id", Value: 1}, {Key: "at", Value: 5}, {Key: "old", Value: 1}}},
			setup: func(t *testing.T, d *testDB) {
				if _, err := d.db.Collection("logs").Indexes().CreateOne(d.ctx, mongo.IndexModel{Keys: bson.D{{Key: "old", Value: 1}}, Options: options.Index().SetName("logs_old")}); err != nil {
					t.Fatal(err)
				}
			},
			afterExpand: func(t *testing.T, d *testDB) {
				wantIndex(t, d, "logs", "logs_old", true)
				wantIndex(t, d, "logs", "logs_at", true)
			},
			afterContract: func(t *testing.T, d *testDB) { wantIndex(t, d, "logs", "logs_old", false) },
			afterRollback: func(t *testing.T, d *testDB) {
				wantIndex(t, d, "logs", "logs_old", true)
				wantIndex(t, d, "logs", "logs_at", false)
			},
		},
	}
}

const changeFieldFile = `name: amount_cents
operations:
  - change_field:
      collection: payments
      field: amount
      to: amount_cents
      up: {$toInt: {$round: [{$multiply: [{$toDouble: "$amount"}, 100]}, 0]}}
      down: {$toString: {$divide: ["$amount_cents", 100]}}
`

func wantField(t *testing.T, d *testDB, coll string, id any, field string, want any) {
	t.Helper()
	if got, ok := d.doc(coll, id)[field]; !ok || got != want {
		t.Errorf("%s %v: %s = %v (%T, present %v), want %v (%T)", coll, id, field, got, got, ok, want, want)
	}
}

func wantNoField(t *testing.T, d *testDB, coll string, id any, field string) {
	t.Helper()
	if got, ok := d.doc(coll, id)[field]; ok {
		t.Errorf("%s %v: %s = %v, want no such field", coll, id, field, got)
	}
}

func wantIndex(t *testing.T, d *testDB, coll, name string, want bool) {
	t.Helper()
	found := false
	for _, n := range d.indexes(coll) {
		found = found || n == name
	}
	if found != want {
		t.Errorf("index %s on %s exists = %v, want %v (have %v)", name, coll, found, want, d.indexes(coll))
	}
}
