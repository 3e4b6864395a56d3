package mongo

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/pitr"
)

// AlgoBSONSum names the collection checksum in manifests: the sum (mod
// 2^64) of the first 64 bits of the SHA-256 of each document's BSON bytes.
// Copies in a snapshot database and .bson files use the same checksum.
const AlgoBSONSum = "bson-sha256-sum64"

// maxDocSize bounds one document read from a .bson file (MongoDB's 16 MiB
// limit plus the headroom mongodump allows).
const maxDocSize = 16*1024*1024 + 16*1024

// prepareDumpDir empties (a failed run's leftovers) and creates the label's
// dump directory dir/<store>, laid out as mongodump --out lays out a dump,
// and returns the directory of the database's files: dir/<store>/<db>.
func prepareDumpDir(dir, store, db string) (string, error) {
	root, err := filepath.Abs(filepath.Join(dir, store))
	if err != nil {
		return "", fmt.Errorf("collection snapshot dir: %w", err)
	}
	if err := os.RemoveAll(root); err != nil {
		return "", fmt.Errorf("collection snapshot dir: %w", err)
	}
	d := filepath.Join(root, url.PathEscape(db))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("collection snapshot dir: %w", err)
	}
	return d, nil
}

// isFile reports whether a covered collection's copy is a .bson file (an
// absolute path; database names cannot contain '/').
func isFile(t pitr.TableSum) bool { return filepath.IsAbs(t.Copy) }

// inFiles reports whether m's collection snapshot is kept as .bson files.
func inFiles(m *pitr.Manifest) bool { return len(m.Tables) > 0 && isFile(m.Tables[0]) }

// dumpCollection streams the collection, in _id order, into dir/<name>.bson
// (concatenated BSON documents, as mongodump writes them), checksumming
// each document on the way, and writes dir/<name>.metadata.json.
func dumpCollection(ctx context.Context, c *mongo.Collection, dir string) (pitr.TableSum, error) {
	path := filepath.Join(dir, url.PathEscape(c.Name())+".bson")
	s := pitr.TableSum{Name: c.Name(), Copy: path, Algo: AlgoBSONSum}
	f, err := os.Create(path)
	if err != nil {
		return s, fmt.Errorf("collection snapshot file: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(batchSize))
	if err != nil {
		return s, fmt.Errorf("read %s: %w", c.Name(), err)
	}
	defer cur.Close(ctx)
	var sum summer
	for cur.Next(ctx) {
		sum.add(cur.Current)
		if _, err := w.Write(cur.Current); err != nil {
			return s, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := cur.Err(); err != nil {
		return s, fmt.Errorf("read %s: %w", c.Name(), err)
	}
	if err := errors.Join(w.Flush(), f.Sync(), f.Close()); err != nil {
		return s, fmt.Errorf("write %s: %w", path, err)
	}
	s.Rows, s.Checksum = sum.n, sum.String()
	return s, writeMetadata(ctx, c, metadataPath(path))
}

// metadataPath is the metadata.json beside a .bson file.
func metadataPath(bsonPath string) string {
	return strings.TrimSuffix(bsonPath, ".bson") + ".metadata.json"
}

// metadata is mongodump's <collection>.metadata.json.
type metadata struct {
	Options        bson.Raw   `bson:"options"`
	Indexes        []bson.Raw `bson:"indexes"`
	CollectionName string     `bson:"collectionName"`
	Type           string     `bson:"type"`
}

// writeMetadata writes the collection's options and index specifications
// as canonical extended JSON, the form mongorestore reads.
func writeMetadata(ctx context.Context, c *mongo.Collection, path string) error {
	md := metadata{Options: bson.Raw(emptyDoc), CollectionName: c.Name(), Type: "collection"}
	cur, err := c.Indexes().List(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.Name(), err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		md.Indexes = append(md.Indexes, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.Name(), err)
	}
	specs, err := c.Database().ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: c.Name()}})
	if err == nil && len(specs) == 1 && specs[0].Options != nil {
		md.Options = specs[0].Options
	}
	b, err := bson.MarshalExtJSON(md, true, false)
	if err != nil {
		return fmt.Errorf("encode metadata of %s: %w", c.Name(), err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	return nil
}

var emptyDoc = []byte{5, 0, 0, 0, 0}

// metadataIndexes reads the index specifications of a metadata.json.
func metadataIndexes(path string) ([]*mongo.IndexSpecification, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("collection metadata: %w", err)
	}
	var md metadata
	if err := bson.UnmarshalExtJSON(b, true, &md); err != nil {
		return nil, fmt.Errorf("collection metadata %s: %w", path, err)
	}
	specs := make([]*mongo.IndexSpecification, 0, len(md.Indexes))
	for _, raw := range md.Indexes {
		var s mongo.IndexSpecification
		if err := bson.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("collection metadata %s: index: %w", path, err)
		}
		specs = append(specs, &s)
	}
	return specs, nil
}

// eachFileDoc reads the .bson file at path and calls fn with each document
// (valid only during the call). A truncated or corrupt file is an error
// naming the document and byte offset.
func eachFileDoc(ctx context.Context, path string, fn func(bson.Raw) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("collection snapshot file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	buf := make([]byte, 0, 64*1024)
	for n, off := 0, int64(0); ; n++ {
		if n%batchSize == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		doc, err := readDoc(r, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d at byte %d: %w", path, n+1, off, err)
		}
		if err := fn(doc); err != nil {
			return err
		}
		buf, off = doc[:0], off+int64(len(doc))
	}
}

// readDoc reads one length-prefixed BSON document into buf (grown as
// needed); io.EOF only at a clean end of the file.
func readDoc(r io.Reader, buf []byte) (bson.Raw, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("truncated (partial length prefix)")
		}
		return nil, err
	}
	size := int(int32(binary.LittleEndian.Uint32(head[:])))
	if size < 5 || size > maxDocSize {
		return nil, fmt.Errorf("corrupt: document length %d", size)
	}
	if cap(buf) < size {
		buf = make([]byte, size)
	}
	buf = append(buf[:0], head[:]...)[:size]
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		return nil, fmt.Errorf("truncated: %w", err)
	}
	doc := bson.Raw(buf)
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("corrupt: %w", err)
	}
	return doc, nil
}

// fileSum re-reads a .bson file and returns its document count and checksum.
func fileSum(ctx context.Context, path string) (int64, string, error) {
	var s summer
	err := eachFileDoc(ctx, path, func(d bson.Raw) error { s.add(d); return nil })
	return s.n, s.String(), err
}
