package mongo

import (
	"bytes"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// update builds the conditional update for one document: its filter holds
// every value the decision was computed from, so a concurrent write makes it
// match nothing (and the next pass looks again) instead of being overwritten.
func (s *syncSpec) update(doc bson.Raw, d decision) (*condUpdate, error) {
	after, err := docD(doc)
	if err != nil {
		return nil, err
	}
	set := bson.D{}
	unset := bson.D{}
	target, expr := s.UpTarget, s.Up
	if d == runDown {
		target, expr = s.DownTarget, s.Down
	}
	if d == runUp || d == runDown {
		v, err := eval(expr, doc)
		if err != nil {
			return nil, fmt.Errorf("document _id %v: %w", lookup(doc, "_id"), err)
		}
		if v == missing {
			unset = append(unset, bson.E{Key: target, Value: ""})
			after = setField(after, target, missing)
		} else {
			set = append(set, bson.E{Key: target, Value: v})
			after = setField(after, target, v)
		}
	}
	raw, err := bson.Marshal(after)
	if err != nil {
		return nil, err
	}
	st := stamp{O: sideHash(raw, s.OldSide), N: sideHash(raw, s.NewSide)}
	set = append(set, bson.E{Key: s.Key, Value: st})
	upd := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		upd = append(upd, bson.E{Key: "$unset", Value: unset})
	}
	return &condUpdate{filter: s.filter(doc), update: upd}, nil
}

// condUpdate is one conditional update: filter[0] is {_id: ...}, the rest
// the observed values.
type condUpdate struct {
	filter bson.D
	update bson.D
}

func (u *condUpdate) model() mongo.WriteModel {
	return mongo.NewUpdateOneModel().SetFilter(u.filter).SetUpdate(u.update)
}

// holds reports whether doc still holds the observed values of the filter.
func (u *condUpdate) holds(doc bson.Raw) bool {
	for _, c := range u.filter[1:] {
		rv, err := doc.LookupErr(c.Key)
		cond := c.Value.(bson.D)[0]
		switch cond.Key {
		case "$exists":
			if err == nil {
				return false
			}
		case "$type":
			if err != nil || rv.Type != bson.TypeNull {
				return false
			}
		case "$eq":
			want := cond.Value.(bson.RawValue)
			if err != nil || rv.Type != want.Type || !bytes.Equal(rv.Value, want.Value) {
				return false
			}
		}
	}
	return true
}

// filter matches the document only while its fields hold the observed values.
func (s *syncSpec) filter(doc bson.Raw) bson.D {
	f := bson.D{{Key: "_id", Value: doc.Lookup("_id")}}
	for _, name := range s.fields() {
		if name == s.Key {
			continue
		}
		rv, err := doc.LookupErr(name)
		switch {
		case err != nil:
			f = append(f, bson.E{Key: name, Value: bson.D{{Key: "$exists", Value: false}}})
		case rv.Type == bson.TypeNull:
			f = append(f, bson.E{Key: name, Value: bson.D{{Key: "$type", Value: "null"}}})
		default:
			f = append(f, bson.E{Key: name, Value: bson.D{{Key: "$eq", Value: rv}}})
		}
	}
	return f
}

func docD(doc bson.Raw) (bson.D, error) {
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	return d, nil
}

// setField sets (or, with missing, removes) a top-level field of d.
func setField(d bson.D, key string, v any) bson.D {
	out := d[:0:0]
	for _, e := range d {
		if e.Key != key {
			out = append(out, e)
		}
	}
	if v != missing {
		out = append(out, bson.E{Key: key, Value: v})
	}
	return out
}
