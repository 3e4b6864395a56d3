package reconcile

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readconcern"

	"github.com/tidemark/tidemark/internal/dburl"
)

// mongoDB is a MongoDB database. Reads use the "snapshot" read concern
// where the server supports it outside transactions (MongoDB 5.0+);
// FerretDB does not, so there each cursor reads the latest data and the
// grace re-check is what separates in-flight writes from breaks.
type mongoDB struct {
	client   *mongo.Client
	db       *mongo.Database
	snapshot bool
}

func openMongo(ctx context.Context, u *dburl.URL) (*mongoDB, error) {
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(u.Raw))
	if err != nil {
		return nil, err
	}
	m := &mongoDB{client: c, db: c.Database(u.Database())}
	var info bson.M
	if err := m.db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		_ = c.Disconnect(ctx)
		return nil, err
	}
	_, ferret := info["ferretdbVersion"]
	if v, ok := info["versionArray"].(bson.A); ok && len(v) > 0 && !ferret {
		major, _ := toInt64(v[0])
		m.snapshot = major >= 5
	}
	return m, nil
}

func (m *mongoDB) Snapshot() string {
	if m.snapshot {
		return "read concern snapshot"
	}
	return "latest (server has no snapshot reads outside transactions)"
}

func (m *mongoDB) Close(ctx context.Context) { _ = m.client.Disconnect(ctx) }

func (m *mongoDB) Reader(s *Source) reader {
	coll := m.db.Collection(s.Collection)
	if m.snapshot {
		coll = m.db.Collection(s.Collection, options.Collection().SetReadConcern(readconcern.Snapshot()))
	}
	return &mongoReader{db: m, src: s, coll: coll}
}

type mongoReader struct {
	db   *mongoDB
	src  *Source
	coll *mongo.Collection

	typesMu sync.Mutex
	types   *mongoKeyTypes // found at the first use of a range
}

func (r *mongoReader) sort() bson.D {
	var d bson.D
	for _, k := range r.src.Key {
		d = append(d, bson.E{Key: k.Name, Value: 1})
	}
	return d
}

// pipeline is a pipeline source's stages, then a $match of filter, a
// $sort by the key and a $limit, as asked.
func (r *mongoReader) pipeline(filter bson.D, sorted bool, limit int64) bson.A {
	p := append(bson.A{}, r.src.Pipeline...)
	if len(filter) > 0 {
		p = append(p, bson.D{{Key: "$match", Value: filter}})
	}
	if sorted {
		p = append(p, bson.D{{Key: "$sort", Value: r.sort()}})
	}
	if limit > 0 {
		p = append(p, bson.D{{Key: "$limit", Value: limit}})
	}
	return p
}

func (r *mongoReader) cursor(ctx context.Context, filter bson.D, sorted bool, batch int32) (*mongo.Cursor, error) {
	if r.src.Pipeline != nil {
		return r.coll.Aggregate(ctx, r.pipeline(filter, sorted, 0), options.Aggregate().SetBatchSize(batch))
	}
	f := r.findFilter(filter)
	o := options.Find().SetBatchSize(batch)
	if sorted {
		o.SetSort(r.sort())
	}
	if r.src.Projection != nil {
		o.SetProjection(r.src.Projection)
	}
	return r.coll.Find(ctx, f, o)
}

// Stream reads rng. When the key's stored BSON types allow it the server
// selects the range, and a row outside it (the server orders the key
// differently from tidemark) is an error; else every row is read and rows
// outside rng are dropped.
func (r *mongoReader) Stream(ctx context.Context, rng Range) (stream, error) {
	filter, bounded := bson.D{}, false
	if rng.Lo != nil || rng.Hi != nil {
		kt, err := r.storedKeyTypes(ctx)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
		}
		if kt.bounded {
			if filter, err = r.rangeFilter(kt, rng); err != nil {
				return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
			}
			bounded = true
		}
	}
	cur, err := r.cursor(ctx, filter, true, int32(r.src.Batch))
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
	}
	return &mongoStream{r: r, cur: cur, rng: rng, bounded: bounded}, nil
}

func (r *mongoReader) Lookup(ctx context.Context, vals []any) ([]*Row, error) {
	f := bson.D{}
	for i, k := range r.src.Key {
		f = append(f, bson.E{Key: k.Name, Value: mongoKeyMatch(k.Type, vals[i])})
	}
	cur, err := r.cursor(ctx, f, true, 100)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", r.src.Name, err)
	}
	defer cur.Close(ctx)
	var out []*Row
	for cur.Next(ctx) {
		row, err := r.row(cur.Current)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, cur.Err()
}

// row converts a document: top-level fields become columns; key columns may
// be dotted paths.
func (r *mongoReader) row(doc bson.Raw) (*Row, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	row := &Row{Names: make([]string, 0, len(elems)), Vals: make([]any, 0, len(elems)), KeyVals: make([]any, len(r.src.Key))}
	for _, e := range elems {
		row.Names = append(row.Names, e.Key())
		row.Vals = append(row.Vals, bsonValue(e.Value()))
	}
	for i, k := range r.src.Key {
		v, err := doc.LookupErr(strings.Split(k.Name, ".")...)
		if err != nil {
			return nil, fmt.Errorf("source %s: a document has no key field %q", r.src.Name, k.Name)
		}
		row.KeyVals[i] = bsonValue(v)
	}
	row.Key, err = encodeKey(nil, r.src.Key, row.KeyVals)
	if err != nil {
		return nil, fmt.Errorf("source %s: document %s: %w", r.src.Name, keyString(row.KeyVals), err)
	}
	return row, nil
}

// bsonValue converts a BSON value to a source value.
func bsonValue(v bson.RawValue) any {
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil
	case bson.TypeInt32:
		return int64(v.Int32())
	case bson.TypeInt64:
		return v.Int64()
	case bson.TypeDouble:
		return v.Double()
	case bson.TypeDecimal128:
		return Decimal(v.Decimal128().String())
	case bson.TypeString:
		return v.StringValue()
	case bson.TypeBoolean:
		return v.Boolean()
	case bson.TypeDateTime:
		return v.Time().UTC()
	case bson.TypeBinary:
		st, data := v.Binary()
		if (st == 4 || st == 3) && len(data) == 16 {
			var u UUID
			copy(u[:], data)
			return u
		}
		return primitive.Binary{Subtype: st, Data: data}
	case bson.TypeObjectID:
		return v.ObjectID().Hex()
	}
	return v.String()
}

type mongoStream struct {
	r       *mongoReader
	cur     *mongo.Cursor
	rng     Range
	bounded bool // the server selects rng
}

func (s *mongoStream) Next(ctx context.Context) (*Row, error) {
	for s.cur.Next(ctx) {
		row, err := s.r.row(s.cur.Current)
		if err != nil || s.rng.contains(row.Key) {
			return row, err
		}
		if s.bounded {
			return nil, fmt.Errorf("source %s: key %s is outside the range the server selected for it: the server orders this key differently (check the key's stored types and case)", s.r.src.Name, keyString(row.KeyVals))
		}
	}
	if err := s.cur.Err(); err != nil {
		return nil, fmt.Errorf("source %s: %w", s.r.src.Name, err)
	}
	return nil, nil
}

func (s *mongoStream) Close(ctx context.Context) { _ = s.cur.Close(ctx) }

// mongoKeyMatch matches a canonical key value however the document stores
// it (a uuid as a string in either case or as BinData; a timestamp as a date).
func mongoKeyMatch(t KeyType, v any) any {
	switch t {
	case KeyUUID:
		u, err := toUUID(v)
		if err != nil {
			return v
		}
		s := UUID(u).String()
		return bson.D{{Key: "$in", Value: bson.A{s, strings.ToUpper(s), primitive.Binary{Subtype: 4, Data: u[:]}}}}
	case KeyTimestamp:
		if us, err := toInt64(v); err == nil {
			return primitive.NewDateTimeFromTime(unixMicro(us))
		}
	case KeyInt:
		if i, err := toInt64(v); err == nil {
			return i
		}
	}
	return v
}
