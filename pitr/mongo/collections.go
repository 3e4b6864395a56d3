package mongo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
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
// first), in batches, and returns the checksum of what it copied. It tries
// an aggregation $out first where the server supports it.
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
	batch := make([]any, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := to.InsertMany(ctx, batch)
		batch = batch[:0]
		return err
	}
	for cur.Next(ctx) {
		batch = append(batch, bson.Raw(append([]byte(nil), cur.Current...)))
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return "", fmt.Errorf("copy into %s: %w", to.Name(), err)
			}
		}
	}
	if err := cur.Err(); err != nil {
		return "", fmt.Errorf("read %s: %w", from.Name(), err)
	}
	if err := flush(); err != nil {
		return "", fmt.Errorf("copy into %s: %w", to.Name(), err)
	}
	return "batched copy", nil
}

// snapshotCollections copies each collection into the snapshot database and
// records counts and checksums of the copies.
func (p *Provider) snapshotCollections(ctx context.Context, label string, names []string) ([]pitr.TableSum, string, error) {
	snapDB := p.client.Database(SnapshotDB(p.u.Database(), label))
	var sums []pitr.TableSum
	var how string
	for _, n := range names {
		copyC := snapDB.Collection(n)
		var err error
		if how, err = copyCollection(ctx, p.db.Collection(n), copyC); err != nil {
			return nil, "", err
		}
		rows, sum, err := Checksum(ctx, copyC)
		if err != nil {
			return nil, "", err
		}
		sums = append(sums, pitr.TableSum{Name: n, Copy: snapDB.Name() + "." + n, Rows: rows, Checksum: sum})
	}
	return sums, how, nil
}
