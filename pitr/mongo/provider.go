// Package mongo is the MongoDB snapshot provider: a marker write whose
// operation time is the snapshot point (appendOplogNote where the server has
// it, else a marker document), copies of the chosen collections in a
// snapshot database or, with CreateOptions.TableDir, as .bson files in
// mongodump's layout, with counts and checksums, an optional external backup
// command (pbm, mongodump --oplog), and restores of those collections.
//
// It does not use multi-document transactions (FerretDB has none): a
// collection restore builds the restored collection on the side and renames
// it over the live one (one atomic rename with dropTarget on MongoDB; two
// renames on servers without dropTarget, such as FerretDB).
package mongo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

func init() { pitr.Register(dburl.Mongo, Open) }

// StateDB and the collections in it.
const (
	StateDB     = "tidemark"
	Snapshots   = "snapshots"
	MarkersColl = "snapshot_markers"
)

// Provider is the MongoDB provider.
type Provider struct {
	u      *dburl.URL
	client *mongo.Client
	db     *mongo.Database
	log    *slog.Logger
}

var _ pitr.Provider = (*Provider)(nil)

// Open connects to the database named in the URL.
func Open(ctx context.Context, u *dburl.URL, o pitr.Options) (pitr.Provider, error) {
	if u.Database() == "" {
		return nil, errkind.Usagef("the MongoDB URL must name a database (mongodb://host/DBNAME)")
	}
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(u.Raw))
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("connect: %w", err))
	}
	if err := c.Ping(ctx, nil); err != nil {
		c.Disconnect(ctx) //nolint:errcheck
		return nil, dburl.RedactError(fmt.Errorf("connect to %s: %w", u, err))
	}
	return &Provider{u: u, client: c, db: c.Database(u.Database()), log: o.Logger}, nil
}

// Close disconnects.
func (p *Provider) Close(ctx context.Context) error { return p.client.Disconnect(ctx) }

func (p *Provider) snapshots() *mongo.Collection {
	return p.client.Database(StateDB).Collection(Snapshots)
}

// id is the manifest's _id: one tidemark database serves every database on
// the server, so labels are scoped by database name.
func (p *Provider) id(label string) string { return p.u.Database() + ":" + label }

type record struct {
	ID       string `bson:"_id"`
	Database string `bson:"database"`
	Label    string `bson:"label"`
	Manifest string `bson:"manifest"` // JSON
}

func (p *Provider) save(ctx context.Context, m *pitr.Manifest) error {
	b, err := jsonOf(m)
	if err != nil {
		return err
	}
	_, err = p.snapshots().InsertOne(ctx, record{ID: p.id(m.Label), Database: p.u.Database(), Label: m.Label, Manifest: b})
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("save manifest: %w", err)
	}
	return nil
}

// Get returns the manifest recorded for label.
func (p *Provider) Get(ctx context.Context, label string) (*pitr.Manifest, error) {
	var r record
	err := p.snapshots().FindOne(ctx, bson.D{{Key: "_id", Value: p.id(label)}}).Decode(&r)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, errkind.Usagef("%w: no snapshot labelled %q (see `tidemark snapshot list`)", pitr.ErrNotFound, label)
	}
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return manifestOf(r.Manifest)
}

// List returns the database's manifests, oldest first.
func (p *Provider) List(ctx context.Context) ([]*pitr.Manifest, error) {
	cur, err := p.snapshots().Find(ctx, bson.D{{Key: "database", Value: p.u.Database()}})
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	var rs []record
	if err := cur.All(ctx, &rs); err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	out := make([]*pitr.Manifest, 0, len(rs))
	for _, r := range rs {
		m, err := manifestOf(r.Manifest)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	sortManifests(out)
	return out, nil
}
