package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// mongoKeyTypes is what a MongoDB source stores in its key columns. A
// range filter must compare within the stored BSON type: MongoDB's $gte
// and $lt match only values of the bound's type, so a uuid bound written
// as a string selects no BinData uuid at all.
type mongoKeyTypes struct {
	// bounded: every key column holds values of one BSON type that
	// tidemark can write bounds for (int: any number; text: string; uuid:
	// string or 16-byte BinData; timestamp: date), in every document.
	bounded bool
	types   []bsontype.Type
	subtype []byte // BinData subtype of a uuid column
	upper   []bool // a uuid column holds upper-case strings (canonical form)
}

// storedKeyTypes finds the stored key types once, at the first use of a
// range: from the first document in key order, then checks that no
// document holds another type (or lacks the field).
func (r *mongoReader) storedKeyTypes(ctx context.Context) (*mongoKeyTypes, error) {
	r.typesMu.Lock()
	defer r.typesMu.Unlock()
	if r.types != nil {
		return r.types, nil
	}
	kt, err := r.findKeyTypes(ctx)
	if err != nil {
		return nil, fmt.Errorf("key types: %w", err)
	}
	r.types = kt
	return kt, nil
}

func (r *mongoReader) findKeyTypes(ctx context.Context) (*mongoKeyTypes, error) {
	n := len(r.src.Key)
	kt := &mongoKeyTypes{types: make([]bsontype.Type, n), subtype: make([]byte, n), upper: make([]bool, n)}
	first, err := r.firstKeyDoc(ctx, nil, true)
	if err != nil || first == nil {
		return kt, err // empty: unbounded, so rows written meanwhile are not lost
	}
	var other bson.A
	for i, k := range r.src.Key {
		v, err := first.LookupErr(strings.Split(k.Name, ".")...)
		if err != nil {
			return kt, nil
		}
		alias, ok := kt.set(i, k.Type, v)
		if !ok {
			return kt, nil
		}
		not := any(bson.D{{Key: "$type", Value: alias}})
		if k.Type == KeyUUID && alias == "string" {
			if not, err = r.uuidStrings(ctx, kt, i); err != nil {
				return nil, err
			}
		}
		other = append(other, bson.D{{Key: k.Name, Value: bson.D{{Key: "$not", Value: not}}}})
	}
	mixed, err := r.firstKeyDoc(ctx, bson.D{{Key: "$or", Value: other}}, false)
	kt.bounded = err == nil && mixed == nil
	return kt, err
}

// uuidStrings finds the case of uuid column i's strings and returns the
// pattern every value must match for string bounds to order as tidemark
// does: the canonical form, in one case.
func (r *mongoReader) uuidStrings(ctx context.Context, kt *mongoKeyTypes, i int) (primitive.Regex, error) {
	name := r.src.Key[i].Name
	up, err := r.firstKeyDoc(ctx, bson.D{{Key: name, Value: primitive.Regex{Pattern: "[A-F]"}}}, false)
	kt.upper[i] = up != nil
	hex := "[0-9a-f]"
	if kt.upper[i] {
		hex = "[0-9A-F]"
	}
	return primitive.Regex{Pattern: fmt.Sprintf("^%[1]s{8}-%[1]s{4}-%[1]s{4}-%[1]s{4}-%[1]s{12}$", hex)}, err
}

// set records the stored type of key column i from value v and returns
// its $type alias; ok is false when tidemark cannot bound it.
func (kt *mongoKeyTypes) set(i int, t KeyType, v bson.RawValue) (alias string, ok bool) {
	kt.types[i] = v.Type
	switch {
	case t == KeyInt && (v.Type == bson.TypeInt32 || v.Type == bson.TypeInt64 || v.Type == bson.TypeDouble || v.Type == bson.TypeDecimal128):
		return "number", true
	case (t == KeyText || t == KeyUUID) && v.Type == bson.TypeString:
		return "string", true
	case t == KeyUUID && v.Type == bson.TypeBinary:
		st, data := v.Binary()
		kt.subtype[i] = st
		return "binData", len(data) == 16
	case t == KeyTimestamp && v.Type == bson.TypeDateTime:
		return "date", true
	}
	return "", false
}

// bound converts a canonical key value of column i to the stored type for
// comparison op ($gte, $gt, $lt or $eq). ok is false when no stored value
// can equal it (a timestamp finer than the milliseconds BSON dates hold).
func (kt *mongoKeyTypes) bound(col KeyColumn, i int, op string, v any) (any, bool, error) {
	c, err := keyValue(col.Type, v)
	if err != nil {
		return nil, false, fmt.Errorf("key column %s: %w", col.Name, err)
	}
	switch col.Type {
	case KeyTimestamp:
		// a date of m ms is the key m*1000 µs: m*1000 >= X iff m >= ceil(X/1000),
		// m*1000 > X iff m > floor(X/1000), m*1000 < X iff m < ceil(X/1000).
		us := c.(int64)
		ms := us / 1000
		if us%1000 < 0 {
			ms--
		}
		exact := ms*1000 == us
		if op == "$eq" && !exact {
			return nil, false, nil
		}
		if (op == "$gte" || op == "$lt") && !exact {
			ms++
		}
		return primitive.DateTime(ms), true, nil
	case KeyUUID:
		u := c.([16]byte)
		if kt.types[i] == bson.TypeBinary {
			return primitive.Binary{Subtype: kt.subtype[i], Data: u[:]}, true, nil
		}
		s := UUID(u).String()
		if kt.upper[i] {
			s = strings.ToUpper(s)
		}
		return s, true, nil
	}
	return c, true, nil
}

// rangeFilter is the filter for [lo, hi) over a (composite) key, with
// bounds of the stored types.
func (r *mongoReader) rangeFilter(kt *mongoKeyTypes, rng Range) (bson.D, error) {
	var and bson.A
	for _, b := range []struct {
		vals []any
		op   string
	}{{rng.Lo, "$gte"}, {rng.Hi, "$lt"}} {
		if b.vals == nil {
			continue
		}
		f, err := r.tupleFilter(kt, b.vals, b.op)
		if err != nil {
			return nil, err
		}
		and = append(and, f)
	}
	if len(and) == 0 {
		return bson.D{}, nil
	}
	return bson.D{{Key: "$and", Value: and}}, nil
}

// tupleFilter: (k1,k2,..) op (v1,v2,..) in lexicographic order, as
// k1 op' v1 OR (k1 = v1 AND k2 op' v2) OR ..., op' strict but for the last.
func (r *mongoReader) tupleFilter(kt *mongoKeyTypes, vals []any, op string) (bson.D, error) {
	strict := map[string]string{"$gte": "$gt", "$lt": "$lt"}[op]
	var or bson.A
	prefix := bson.D{}
	for i, k := range r.src.Key {
		o := strict
		if i == len(r.src.Key)-1 {
			o = op
		}
		b, _, err := kt.bound(k, i, o, vals[i])
		if err != nil {
			return nil, err
		}
		or = append(or, append(slices.Clone(prefix), bson.E{Key: k.Name, Value: bson.D{{Key: o, Value: b}}}))
		eq, ok, _ := kt.bound(k, i, "$eq", vals[i])
		if !ok {
			break // no stored value equals vals[i]: later columns never decide
		}
		prefix = append(prefix, bson.E{Key: k.Name, Value: eq})
	}
	return bson.D{{Key: "$or", Value: or}}, nil
}

// firstKeyDoc returns the key fields of the first document matching
// filter (in key order when sorted), or nil.
func (r *mongoReader) firstKeyDoc(ctx context.Context, filter bson.D, sorted bool) (bson.Raw, error) {
	cur, err := r.keyCursor(ctx, filter, sorted, 1, 1)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	if cur.Next(ctx) {
		return cur.Current, nil
	}
	return nil, cur.Err()
}

// keyCursor reads the key fields of the source's documents that match
// filter. A pipeline source's documents are read whole: FerretDB 1.24
// drops the connection on a $project (or $unset) stage after a stage that
// removed _id.
func (r *mongoReader) keyCursor(ctx context.Context, filter bson.D, sorted bool, limit int64, batch int32) (*mongo.Cursor, error) {
	if r.src.Pipeline != nil {
		return r.coll.Aggregate(ctx, r.pipeline(filter, sorted, limit), options.Aggregate().SetBatchSize(batch))
	}
	o := options.Find().SetBatchSize(batch).SetProjection(r.keyProjection())
	if sorted {
		o.SetSort(r.sort())
	}
	if limit > 0 {
		o.SetLimit(limit)
	}
	return r.coll.Find(ctx, r.findFilter(filter), o)
}

// keyProjection keeps the key fields only.
func (r *mongoReader) keyProjection() bson.D {
	d, id := bson.D{}, false
	for _, k := range r.src.Key {
		d = append(d, bson.E{Key: k.Name, Value: 1})
		id = id || k.Name == "_id" || strings.HasPrefix(k.Name, "_id.")
	}
	if !id {
		d = append(d, bson.E{Key: "_id", Value: 0})
	}
	return d
}

// findFilter is the source's filter and filter.
func (r *mongoReader) findFilter(filter bson.D) bson.D {
	f := bson.D{}
	if r.src.Filter != nil {
		f = append(f, r.src.Filter...)
	}
	if len(filter) > 0 {
		f = bson.D{{Key: "$and", Value: bson.A{f, filter}}}
	}
	return f
}
