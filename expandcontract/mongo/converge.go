package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/internal/errkind"
)

// direction limits what a phase writes: expand syncs both ways, contract
// only up (the old fields are about to go), rollback only down.
type direction int

const (
	both direction = iota
	upOnly
	downOnly
)

// converge runs passes over a collection in _id order until one pass finds
// nothing to write. The cursor and counters are saved after every batch, so
// a killed run resumes within its pass.
func (r *run) converge(ctx context.Context, s *migState, spec *syncSpec, phase string, dir direction, maxPasses int) (*Progress, error) {
	key := phase + "_" + spec.ID
	p := s.Progress[key]
	if p == nil {
		p = &Progress{Action: spec.ID, Collection: spec.Collection, Pass: 1}
		n, err := r.coll(spec.Collection).EstimatedDocumentCount(ctx)
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", spec.Collection, err)
		}
		p.Total = n
		s.Progress[key] = p
	}
	for batchNo := 1; !p.Converged; batchNo++ {
		if err := ctx.Err(); err != nil {
			return p, fmt.Errorf("%s %s: stopped between batches: %w", phase, spec.Collection, err)
		}
		n, err := r.batch(ctx, s, spec, p, dir, fmt.Sprintf("%s:%s:batch:%d", phase, spec.ID, batchNo))
		if err != nil {
			return p, err
		}
		if n > 0 {
			continue
		}
		if err := r.endPass(ctx, s, p, maxPasses, phase == "expand" || phase == "sync"); err != nil || !p.Converged && p.Pass > maxPasses {
			return p, err
		}
	}
	return p, nil
}

// endPass closes a pass: converged when it wrote and missed nothing.
func (r *run) endPass(ctx context.Context, s *migState, p *Progress, maxPasses int, mayStop bool) error {
	if p.PassWritten+p.PassMissed == 0 {
		p.Converged = true
		return r.saveRenew(ctx, s)
	}
	if p.Pass >= maxPasses {
		if !mayStop {
			return errkind.Temporaryf("%s: still changing after %d passes (%d written, %d missed in the last): are old-version writers still running? run again once they stopped",
				p.Collection, p.Pass, p.PassWritten, p.PassMissed)
		}
		r.opts.Logger.Warn("backfill not converged yet; contract converges the rest",
			"migration", s.Name, "collection", p.Collection, "passes", p.Pass)
		p.Pass++
		return r.saveRenew(ctx, s)
	}
	p.Pass++
	p.Cursor, p.Upper, p.UpperSet = bson.RawValue{}, bson.RawValue{}, false
	p.PassScanned, p.PassWritten, p.PassMissed = 0, 0, 0
	return r.saveRenew(ctx, s)
}

// batch reads up to BatchSize documents after the cursor, writes what they
// need with conditional updates, and saves the cursor. It returns the number
// of documents read (0 at the end of a pass).
func (r *run) batch(ctx context.Context, s *migState, spec *syncSpec, p *Progress, dir direction, point string) (int, error) {
	if !p.UpperSet {
		up, err := r.maxID(ctx, spec.Collection)
		if err != nil {
			return 0, err
		}
		p.Upper, p.UpperSet = up, true
	}
	docs, err := r.readBatch(ctx, spec, p.Cursor, p.Upper)
	if err != nil || len(docs) == 0 {
		return 0, err
	}
	var models []*condUpdate
	for _, doc := range docs {
		m, err := spec.model(doc, dir)
		if err != nil {
			return 0, fmt.Errorf("%s %s: %w", s.Name, spec.Collection, err)
		}
		if m != nil {
			models = append(models, m)
		}
	}
	matched, err := r.bulkWrite(ctx, spec.Collection, models)
	if err != nil {
		return 0, err
	}
	p.PassWritten += matched
	p.Written += matched
	p.PassMissed += int64(len(models)) - matched
	p.Missed += int64(len(models)) - matched
	r.hook(point + ":written")
	p.Cursor = docs[len(docs)-1].Lookup("_id")
	p.PassScanned += int64(len(docs))
	p.Scanned += int64(len(docs))
	if err := r.saveRenew(ctx, s); err != nil {
		return 0, err
	}
	r.hook(point + ":saved")
	if r.opts.OnProgress != nil {
		r.opts.OnProgress(s.Name, *p)
	}
	return len(docs), nil
}

// model returns the write one document needs in this direction, or nil.
func (spec *syncSpec) model(doc bson.Raw, dir direction) (*condUpdate, error) {
	d, err := spec.decide(doc)
	if err != nil {
		return nil, err
	}
	if d == skip || dir == upOnly && d != runUp || dir == downOnly && d != runDown {
		return nil, nil
	}
	return spec.update(doc, d)
}

func (r *run) readBatch(ctx context.Context, spec *syncSpec, cursor, upper bson.RawValue) ([]bson.Raw, error) {
	if upper.Type == 0 {
		return nil, nil
	}
	rng := bson.D{{Key: "$lte", Value: upper}}
	if cursor.Type != 0 {
		rng = append(rng, bson.E{Key: "$gt", Value: cursor})
	}
	filter := bson.D{{Key: "_id", Value: rng}}
	proj := bson.D{{Key: "_id", Value: 1}}
	for _, f := range spec.fields() {
		proj = append(proj, bson.E{Key: f, Value: 1})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(r.opts.BatchSize)).SetProjection(proj)
	cur, err := r.coll(spec.Collection).Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", spec.Collection, err)
	}
	defer cur.Close(ctx)
	var docs []bson.Raw
	for cur.Next(ctx) {
		docs = append(docs, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", spec.Collection, err)
	}
	return docs, nil
}

// bulkWrite runs the conditional updates (unordered, one command) and
// returns how many matched.
func (r *run) bulkWrite(ctx context.Context, coll string, ups []*condUpdate) (int64, error) {
	if len(ups) == 0 {
		return 0, nil
	}
	if r.ferret {
		return r.ferretWrite(ctx, coll, ups)
	}
	models := make([]mongo.WriteModel, len(ups))
	for i, u := range ups {
		models[i] = u.model()
	}
	res, err := r.coll(coll).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return 0, fmt.Errorf("backfill %s: %w", coll, err)
	}
	return res.MatchedCount, nil
}

// ferretWrite is the FerretDB v1.24 path. Its update is a read-modify-write
// of the whole document, and only a filter of exactly {_id} is pushed down
// to SQLite: any other filter scans the collection, once per statement, and
// a bulk command holds a connection per statement until it ends. So each
// document is re-read by _id, its observed values checked here, and updated
// by _id alone right away: the window in which a concurrent write can be
// lost is the few milliseconds of FerretDB's own read-modify-write instead
// of a collection scan. (On MongoDB the filter itself makes it atomic.)
func (r *run) ferretWrite(ctx context.Context, coll string, ups []*condUpdate) (int64, error) {
	var matched int64
	c := r.coll(coll)
	for _, u := range ups {
		byID := u.filter[:1]
		cur, err := c.FindOne(ctx, byID).Raw()
		if err == mongo.ErrNoDocuments || err == nil && !u.holds(cur) {
			continue
		}
		if err != nil {
			return matched, fmt.Errorf("backfill %s: %w", coll, err)
		}
		res, err := c.UpdateOne(ctx, byID, u.update)
		if err != nil {
			return matched, fmt.Errorf("backfill %s: %w", coll, err)
		}
		matched += res.MatchedCount
	}
	return matched, nil
}

// maxID returns the collection's largest _id (zero RawValue when empty).
func (r *run) maxID(ctx context.Context, coll string) (bson.RawValue, error) {
	opts := options.FindOne().SetSort(bson.D{{Key: "_id", Value: -1}}).SetProjection(bson.D{{Key: "_id", Value: 1}})
	raw, err := r.coll(coll).FindOne(ctx, bson.D{}, opts).Raw()
	if err == mongo.ErrNoDocuments {
		return bson.RawValue{}, nil
	}
	if err != nil {
		return bson.RawValue{}, fmt.Errorf("read last _id of %s: %w", coll, err)
	}
	return raw.Lookup("_id"), nil
}
