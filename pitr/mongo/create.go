package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// Create records a snapshot (idempotent by label): collection copies when
// asked, the external command when configured, then the marker write.
func (p *Provider) Create(ctx context.Context, o pitr.CreateOptions) (*pitr.Manifest, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if o.BaseBackup == pitr.BackupPGBaseBackup {
		return nil, errkind.Usagef("--base-backup pg_basebackup is for PostgreSQL: use --base-backup command with pbm or mongodump --oplog")
	}
	if m, err := p.Get(ctx, o.Label); err == nil {
		m.Existing = true
		return m, nil
	} else if !errors.Is(err, pitr.ErrNotFound) {
		return nil, err
	}
	t0 := time.Now()
	m := &pitr.Manifest{Label: o.Label, Database: p.u.String(), Engine: "mongodb", Timings: pitr.Timings{}}
	m.ServerVersion = p.serverVersion(ctx)
	if o.TableDir != "" && len(o.Tables) == 0 {
		return nil, errkind.Usagef("--table-dir keeps the collection snapshot as .bson files: name the collections with --collections")
	}
	if err := p.checkCollections(ctx, o.Tables); err != nil {
		return nil, err
	}
	if o.BaseBackup == pitr.BackupCommand {
		run, err := pitr.RunCommand(ctx, pitr.ExpandTemplate(o.BackupCommand, map[string]string{
			"label": o.Label, "dbname": p.u.Database(), "database": p.u.Raw, "dir": o.BackupDir}), nil)
		m.External = run
		if err != nil {
			return nil, errkind.Preconditionf("backup command failed: %w", err)
		}
		m.Timings["external_command"] = pitr.Lap(&t0)
	}
	if len(o.Tables) > 0 {
		var how string
		var err error
		if m.Tables, m.SnapshotStore, how, err = p.snapshotCollections(ctx, o.Label, o.Tables, o.TableDir); err != nil {
			return nil, err
		}
		m.Notes = append(m.Notes, "collections copied by "+how+", one collection at a time (not one consistent snapshot across collections)")
		m.Timings["collection_snapshot"] = pitr.Lap(&t0)
	}
	if err := p.mark(ctx, m); err != nil {
		return nil, err
	}
	m.Timings["mark"] = pitr.Lap(&t0)
	m.Requirements = requirements(m)
	if err := p.save(ctx, m); err != nil {
		return nil, err
	}
	return p.Get(ctx, o.Label)
}

func (p *Provider) serverVersion(ctx context.Context) string {
	var info struct {
		Version string `bson:"version"`
		Ferret  string `bson:"ferretdbVersion"`
	}
	if err := p.client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return "unknown"
	}
	if info.Ferret != "" {
		return info.Version + " (FerretDB " + info.Ferret + ")"
	}
	return info.Version
}

func (p *Provider) checkCollections(ctx context.Context, names []string) error {
	have, err := p.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	for _, n := range names {
		if !slices.Contains(have, n) {
			return errkind.Usagef("collection %q not found in database %s", n, p.u.Database())
		}
	}
	return nil
}

// mark writes the marker (appendOplogNote, else a marker document) in a
// session and records the operation and cluster times the server returned.
func (p *Provider) mark(ctx context.Context, m *pitr.Manifest) error {
	m.CreatedAt = time.Now().UTC()
	m.Position.MarkerID = p.id(m.Label)
	sess, err := p.client.StartSession()
	if err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	defer sess.EndSession(ctx)
	var noteErr error
	err = mongo.WithSession(ctx, sess, func(sc mongo.SessionContext) error {
		noteErr = p.client.Database("admin").RunCommand(sc, bson.D{{Key: "appendOplogNote", Value: 1},
			{Key: "data", Value: bson.D{{Key: "tidemark", Value: m.Position.MarkerID}}}}).Err()
		_, err := p.client.Database(StateDB).Collection(MarkersColl).InsertOne(sc,
			bson.D{{Key: "_id", Value: m.Position.MarkerID}, {Key: "at", Value: m.CreatedAt}})
		if mongo.IsDuplicateKeyError(err) {
			err = nil // a run that died before saving its manifest
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("write marker: %w", err)
	}
	if noteErr == nil {
		m.Notes = append(m.Notes, "appendOplogNote written")
	}
	if t := sess.OperationTime(); t != nil {
		m.Position.OperationTime = fmt.Sprintf("Timestamp(%d, %d)", t.T, t.I)
	}
	if ct := sess.ClusterTime(); ct != nil {
		m.Position.ClusterTime = ct.String()
	}
	if m.Position.OperationTime == "" {
		m.Notes = append(m.Notes, "the server returned no operationTime (FerretDB or a standalone server): the point is the marker document's wall-clock time")
	}
	return nil
}

func requirements(m *pitr.Manifest) []string {
	var r []string
	switch {
	case inFiles(m):
		r = append(r, "the .bson files in "+m.SnapshotStore+" (mongodump layout; for restore --collections)")
	case m.SnapshotStore != "":
		r = append(r, "collection copies in database "+m.SnapshotStore+" (for restore --collections)")
	}
	if m.External != nil {
		r = append(r, "the external backup made by: "+m.External.Command)
	}
	if m.Position.OperationTime != "" {
		r = append(r, "a point-in-time restore of the oplog up to "+m.Position.OperationTime+" (pbm restore --time, mongorestore --oplogReplay --oplogLimit)")
	}
	return r
}
