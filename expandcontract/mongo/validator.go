package mongo

import (
	"context"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
)

// schemaMarker tags the clauses tidemark adds to a $jsonSchema (allOf items).
func schemaMarker(migration string) string { return "tidemark:" + migration }

// currentValidator reads a collection's validator options (nil when none).
func (r *run) currentValidator(ctx context.Context, coll string) (bson.Raw, bool, error) {
	cur, err := r.db().ListCollections(ctx, bson.D{{Key: "name", Value: coll}})
	if err != nil {
		return nil, false, fmt.Errorf("read validator of %s: %w", coll, err)
	}
	defer cur.Close(ctx)
	if !cur.Next(ctx) {
		return nil, false, cur.Err()
	}
	v, err := cur.Current.LookupErr("options", "validator")
	if err != nil {
		return nil, true, nil
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return nil, true, nil
	}
	return append(bson.Raw(nil), doc...), true, nil
}

// bothShapes relaxes a validator so documents of either shape pass: old
// fields leave `required` (a field the old shape required must then be
// present under its old or its new name), new fields stay optional.
func bothShapes(orig bson.Raw, ops []Operation, migration string) (bson.D, bool) {
	schema, ok := jsonSchema(orig)
	if !ok {
		return nil, false
	}
	req := stringList(get(schema, "required"))
	allOf, _ := get(schema, "allOf").(bson.A)
	for _, op := range ops {
		for _, old := range oldFields(op) {
			if !slices.Contains(req, old) {
				continue
			}
			req = slices.DeleteFunc(req, func(s string) bool { return s == old })
			if nf := newFields(op); len(nf) > 0 {
				allOf = append(allOf, bson.D{{Key: "description", Value: schemaMarker(migration)},
					{Key: "anyOf", Value: bson.A{bson.D{{Key: "required", Value: bson.A{old}}}, bson.D{{Key: "required", Value: bson.A{nf[0]}}}}}})
			}
		}
	}
	schema = put(schema, "required", req)
	schema = put(schema, "allOf", allOf)
	if get(schema, "additionalProperties") == false {
		// the sync stamps and the new fields must be allowed in the window
		pp, _ := get(schema, "patternProperties").(bson.D)
		pp = append(slices.DeleteFunc(slices.Clone(pp), func(e bson.E) bool { return e.Key == stampPattern }), bson.E{Key: stampPattern, Value: bson.D{}})
		schema = put(schema, "patternProperties", pp)
		props, _ := get(schema, "properties").(bson.D)
		for _, op := range ops {
			for _, nf := range newFields(op) {
				if get(props, nf) == nil {
					props = append(props, bson.E{Key: nf, Value: bson.D{}})
				}
			}
		}
		schema = put(schema, "properties", props)
	}
	return bson.D{{Key: "$jsonSchema", Value: schema}}, true
}

// stampPattern matches the sync stamp fields in patternProperties.
const stampPattern = "^_tidemark_"

// tightened requires the new shape: new fields required, old fields gone
// from required and properties, tidemark's either-shape clauses removed.
func tightened(applied bson.Raw, ops []Operation, migration string) (bson.D, bool) {
	schema, ok := jsonSchema(applied)
	if !ok {
		return nil, false
	}
	req := stringList(get(schema, "required"))
	props, _ := get(schema, "properties").(bson.D)
	for _, op := range ops {
		for _, old := range oldFields(op) {
			req = slices.DeleteFunc(req, func(s string) bool { return s == old })
			props = slices.DeleteFunc(props, func(e bson.E) bool { return e.Key == old })
		}
		for _, nf := range newFields(op) {
			if !slices.Contains(req, nf) {
				req = append(req, nf)
			}
		}
	}
	var allOf bson.A
	if a, ok := get(schema, "allOf").(bson.A); ok {
		for _, c := range a {
			if d, ok := c.(bson.D); !ok || get(d, "description") != schemaMarker(migration) {
				allOf = append(allOf, c)
			}
		}
	}
	pp, _ := get(schema, "patternProperties").(bson.D)
	pp = slices.DeleteFunc(slices.Clone(pp), func(e bson.E) bool { return e.Key == stampPattern })
	schema = put(schema, "required", req)
	schema = put(schema, "allOf", allOf)
	schema = put(schema, "properties", props)
	schema = put(schema, "patternProperties", pp)
	return bson.D{{Key: "$jsonSchema", Value: schema}}, true
}

// jsonSchema returns a validator's $jsonSchema ({bsonType: object} when there
// is no validator); false when the validator is not a pure $jsonSchema.
func jsonSchema(v bson.Raw) (bson.D, bool) {
	if len(v) == 0 {
		return bson.D{{Key: "bsonType", Value: "object"}}, true
	}
	var d bson.D
	if bson.Unmarshal(v, &d) != nil {
		return nil, false
	}
	if len(d) == 0 {
		return bson.D{{Key: "bsonType", Value: "object"}}, true
	}
	if len(d) != 1 || d[0].Key != "$jsonSchema" {
		return nil, false
	}
	s, ok := d[0].Value.(bson.D)
	return s, ok
}

func get(d bson.D, k string) any {
	for _, e := range d {
		if e.Key == k {
			return e.Value
		}
	}
	return nil
}

// put sets k (removing it when v is empty).
func put(d bson.D, k string, v any) bson.D {
	out := slices.DeleteFunc(slices.Clone(d), func(e bson.E) bool { return e.Key == k })
	switch x := v.(type) {
	case []string:
		if len(x) == 0 {
			return out
		}
		a := bson.A{}
		for _, s := range x {
			a = append(a, s)
		}
		v = a
	case bson.A:
		if len(x) == 0 {
			return out
		}
	case bson.D:
		if len(x) == 0 {
			return out
		}
	}
	return append(out, bson.E{Key: k, Value: v})
}

func stringList(v any) []string {
	var out []string
	if a, ok := v.(bson.A); ok {
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}
