package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// FerretDB v1.24 cannot enforce validators, so the validator documents
// tidemark computes are checked here as data.
func TestValidatorShapes(t *testing.T) {
	ops := []Operation{
		{Kind: RenameField, Collection: "c", From: "name", To: "full_name"},
		{Kind: DropField, Collection: "c", Field: "legacy"},
		{Kind: AddField, Collection: "c", Field: "total"},
	}
	orig, _ := bson.Marshal(bson.D{{Key: "$jsonSchema", Value: bson.D{
		{Key: "bsonType", Value: "object"},
		{Key: "required", Value: bson.A{"name", "legacy", "email"}},
		{Key: "properties", Value: bson.D{{Key: "name", Value: bson.D{{Key: "bsonType", Value: "string"}}}}},
	}}})
	both, ok := bothShapes(orig, ops, "m1")
	if !ok {
		t.Fatal("not a $jsonSchema")
	}
	wantJSON(t, both, `{"$jsonSchema": {"bsonType": "object","properties": {"name": {"bsonType": "string"}},"required": ["email"],"allOf": [{"description": "tidemark:m1","anyOf": [{"required": ["name"]},{"required": ["full_name"]}]}]}}`)
	raw, _ := bson.Marshal(both)
	tight, _ := tightened(raw, ops, "m1")
	wantJSON(t, tight, `{"$jsonSchema": {"bsonType": "object","required": ["email","full_name","total"]}}`)

	strict, _ := bson.Marshal(bson.D{{Key: "$jsonSchema", Value: bson.D{{Key: "additionalProperties", Value: false},
		{Key: "properties", Value: bson.D{{Key: "_id", Value: bson.D{}}, {Key: "name", Value: bson.D{}}}}}}})
	both, _ = bothShapes(strict, ops, "m1")
	wantJSON(t, both, `{"$jsonSchema": {"additionalProperties": false,"patternProperties": {"^_tidemark_": {}},"properties": {"_id": {},"name": {},"full_name": {},"total": {}}}}`)
	raw, _ = bson.Marshal(both)
	tight, _ = tightened(raw, ops, "m1")
	wantJSON(t, tight, `{"$jsonSchema": {"additionalProperties": false,"required": ["full_name","total"],"properties": {"_id": {},"full_name": {},"total": {}}}}`)

	none, _ := bothShapes(nil, ops, "m1")
	wantJSON(t, none, `{"$jsonSchema": {"bsonType": "object"}}`)
	other, _ := bson.Marshal(bson.D{{Key: "qty", Value: bson.D{{Key: "$gt", Value: 0}}}})
	if _, ok := bothShapes(other, ops, "m1"); ok {
		t.Error("a query-operator validator was rewritten")
	}
}

func wantJSON(t *testing.T, v bson.D, want string) {
	t.Helper()
	got, err := bson.MarshalExtJSON(v, false, false)
	if err != nil {
		t.Fatal(err)
	}
	var w bson.D
	if err := bson.UnmarshalExtJSON([]byte(want), false, &w); err != nil {
		t.Fatal(err)
	}
	wj, _ := bson.MarshalExtJSON(w, false, false)
	if string(got) != string(wj) {
		t.Errorf("validator\n got %s\nwant %s", got, wj)
	}
}
