package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/pitr"
)

// SnapshotDB is the database holding a label's collection copies.
func SnapshotDB(db, label string) string { return pitr.StoreName("tmsnap_", db+"_"+label) }

const batchSize = 1000

// summer accumulates an order-independent checksum: the sum (mod 2^64) of
// the first 8 bytes of each document's SHA-256 over its BSON bytes.
type summer struct {
	n   int64
	sum uint64
}

func (s *summer) add(doc bson.Raw) {
	h := sha256.Sum256(doc)
	s.n++
	s.sum += binary.BigEndian.Uint64(h[:8])
}

func (s *summer) String() string { return strconv.FormatUint(s.sum, 16) }

// Checksum returns the document count and checksum of a collection.
func Checksum(ctx context.Context, c *mongo.Collection) (int64, string, error) {
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(batchSize))
	if err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", c.Name(), err)
	}
	defer cur.Close(ctx)
	var s summer
	for cur.Next(ctx) {
		s.add(cur.Current)
	}
	if err := cur.Err(); err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", c.Name(), err)
	}
	return s.n, s.String(), nil
}

// copyCollection copies every document of from into to (which is dropped
// first), in batches, and returns how it copied. It tries an aggregation
// $out first where the server supports it.
func copyCollection(ctx context.Context, from, to *mongo.Collection) (string, error) {
	if err := to.Drop(ctx); err != nil {
		return "", fmt.Errorf("drop %s: %w", to.Name(), err)
	}
	out := bson.D{{Key: "$out", Value: bson.D{{Key: "db", Value: to.Database().Name()}, {Key: "coll", Value: to.Name()}}}}
	if cur, err := from.Aggregate(ctx, mongo.Pipeline{out}); err == nil {
		cur.Close(ctx)
		return "$out", nil
	}
	cur, err := from.Find(ctx, bson.D{}, options.Find().SetBatchSize(batchSize))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", from.Name(), err)
	}
	defer cur.Close(ctx)
	ins := &inserter{to: to}
	for cur.Next(ctx) {
		if err := ins.add(ctx, cur.Current); err != nil {
			return "", err
		}
	}
	if err := cur.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", from.Name(), err)
	}
	return "batched copy", ins.flush(ctx)
}

// loadFile loads a .bson file into to (which is dropped first), in batches.
func loadFile(ctx context.Context, path string, to *mongo.Collection) error {
	if err := to.Drop(ctx); err != nil {
		return fmt.Errorf("drop %s: %w", to.Name(), err)
	}
	ins := &inserter{to: to}
	if err := eachFileDoc(ctx, path, func(d bson.Raw) error { return ins.add(ctx, d) }); err != nil {
		return err
	}
	return ins.flush(ctx)
}

// inserter inserts documents into a collection batchSize at a time; call
// flush after the last add.
type inserter struct {
	to    *mongo.Collection
	batch []any
}

// add queues a copy of d (the caller may reuse its buffer) and inserts the
// batch once it is full.
func (b *inserter) add(ctx context.Context, d bson.Raw) error {
	b.batch = append(b.batch, bson.Raw(append([]byte(nil), d...)))
	if len(b.batch) < batchSize {
		return nil
	}
	return b.flush(ctx)
}

// flush inserts the queued documents.
func (b *inserter) flush(ctx context.Context) error {
	if len(b.batch) == 0 {
		return nil
	}
	_, err := b.to.InsertMany(ctx, b.batch)
	b.batch = b.batch[:0]
	if err != nil {
		return fmt.Errorf("copy into %s: %w", b.to.Name(), err)
	}
	return nil
}

// fill copies a covered collection's snapshot copy (a collection in the
// snapshot database or a .bson file) into to.
func (p *Provider) fill(ctx context.Context, t pitr.TableSum, to *mongo.Collection) error {
	if isFile(t) {
		return loadFile(ctx, t.Copy, to)
	}
	_, err := copyCollection(ctx, p.copyColl(t), to)
	return err
}

// copySum is the document count and checksum of a snapshot copy.
func (p *Provider) copySum(ctx context.Context, t pitr.TableSum) (int64, string, error) {
	if isFile(t) {
		return fileSum(ctx, t.Copy)
	}
	return Checksum(ctx, p.copyColl(t))
}

// snapshotCollections copies each collection into the snapshot database, or
// with dir set into .bson files under dir, and records counts and
// checksums of the copies. It returns the store (database or directory)
// and how the copies were made.
func (p *Provider) snapshotCollections(ctx context.Context, label string, names []string, dir string) ([]pitr.TableSum, string, string, error) {
	store := SnapshotDB(p.u.Database(), label)
	if dir != "" {
		return p.dumpCollections(ctx, names, dir, store)
	}
	snapDB := p.client.Database(store)
	var sums []pitr.TableSum
	var how string
	for _, n := range names {
		copyC := snapDB.Collection(n)
		var err error
		if how, err = copyCollection(ctx, p.db.Collection(n), copyC); err != nil {
			return nil, "", "", err
		}
		rows, sum, err := Checksum(ctx, copyC)
		if err != nil {
			return nil, "", "", err
		}
		sums = append(sums, pitr.TableSum{Name: n, Copy: snapDB.Name() + "." + n, Rows: rows, Checksum: sum, Algo: AlgoBSONSum})
	}
	return sums, store, how, nil
}

// dumpCollections writes each collection as a .bson file (mongodump's
// directory layout) under dir/store.
func (p *Provider) dumpCollections(ctx context.Context, names []string, dir, store string) ([]pitr.TableSum, string, string, error) {
	dbDir, err := prepareDumpDir(dir, store, p.u.Database())
	if err != nil {
		return nil, "", "", err
	}
	var sums []pitr.TableSum
	for _, n := range names {
		s, err := dumpCollection(ctx, p.db.Collection(n), dbDir)
		if err != nil {
			return nil, "", "", err
		}
		sums = append(sums, s)
	}
	return sums, filepath.Dir(dbDir), "streaming each into a .bson file in _id order", nil
}
