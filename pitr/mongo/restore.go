package mongo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// Restore puts the snapshot's collection copies back. Whole-database
// restores are left to the external tool the snapshot recorded.
func (p *Provider) Restore(ctx context.Context, label string, o pitr.RestoreOptions) (*pitr.RestoreResult, error) {
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	if len(o.Tables) == 0 && !o.AllTables {
		return nil, errkind.Usagef("%w: MongoDB restores the snapshot's collections (--collections or --all-tables); restore a whole deployment with the external tool (pbm restore, mongorestore --oplogReplay)", pitr.ErrUnsupported)
	}
	sel, err := selectCollections(m, o)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := p.checkCopies(ctx, sel, ""); err != nil {
		return nil, errkind.Problemsf("the snapshot copies in %s no longer match the manifest: %w", m.SnapshotStore, err)
	}
	if err := p.refuseChanged(ctx, sel, o.DiscardNewer); err != nil {
		return nil, err
	}
	res := &pitr.RestoreResult{Label: label, Mode: "collections", Tables: sel, Timings: pitr.Timings{"check": pitr.Lap(&t0)}}
	for _, t := range sel {
		if err := p.restoreOne(ctx, t); err != nil {
			return nil, err
		}
	}
	res.Timings["swap"] = pitr.Lap(&t0)
	return res, nil
}

func selectCollections(m *pitr.Manifest, o pitr.RestoreOptions) ([]pitr.TableSum, error) {
	if len(m.Tables) == 0 {
		return nil, errkind.Usagef("snapshot %q has no collection snapshot (create it with --collections)", m.Label)
	}
	if o.AllTables {
		return m.Tables, nil
	}
	var sel []pitr.TableSum
	for _, n := range o.Tables {
		i := slices.IndexFunc(m.Tables, func(t pitr.TableSum) bool { return t.Name == n })
		if i < 0 {
			return nil, errkind.Usagef("collection %s is not in snapshot %q", n, m.Label)
		}
		sel = append(sel, m.Tables[i])
	}
	return sel, nil
}

// refuseChanged fails when a live collection differs from the snapshot,
// unless discardNewer.
func (p *Provider) refuseChanged(ctx context.Context, sel []pitr.TableSum, discardNewer bool) error {
	var changed []string
	for _, t := range sel {
		n, sum, err := Checksum(ctx, p.db.Collection(t.Name))
		if err != nil {
			return err
		}
		if n != t.Rows || sum != t.Checksum {
			changed = append(changed, fmt.Sprintf("%s (%d documents now, %d in the snapshot)", t.Name, n, t.Rows))
		}
	}
	if len(changed) > 0 && !discardNewer {
		return errkind.Preconditionf("documents changed after the snapshot in %s: pass --discard-newer to overwrite them", strings.Join(changed, ", "))
	}
	return nil
}

// restoreOne copies the snapshot (collection or .bson file) into a side
// collection with the live collection's indexes (or, when the live one is
// gone, those of the file's metadata.json), checks it, and renames it over
// the live one. The side collection is dropped when a step before the swap
// fails.
func (p *Provider) restoreOne(ctx context.Context, t pitr.TableSum) error {
	side := p.db.Collection(t.Name + "_tidemark_restore")
	live, err := p.exists(ctx, t.Name)
	if err != nil {
		return err
	}
	if err := p.buildSide(ctx, t, side, live); err != nil {
		side.Drop(context.WithoutCancel(ctx)) //nolint:errcheck
		return err
	}
	return p.swap(ctx, side.Name(), t.Name, live)
}

func (p *Provider) buildSide(ctx context.Context, t pitr.TableSum, side *mongo.Collection, live bool) error {
	if err := p.fill(ctx, t, side); err != nil {
		return err
	}
	var specs []*mongo.IndexSpecification
	var err error
	switch {
	case live:
		if specs, err = p.db.Collection(t.Name).Indexes().ListSpecifications(ctx); err != nil {
			return fmt.Errorf("list indexes of %s: %w", t.Name, err)
		}
	case isFile(t):
		if specs, err = metadataIndexes(metadataPath(t.Copy)); err != nil {
			return err
		}
	}
	if err := createIndexes(ctx, side, specs); err != nil {
		return err
	}
	if n, sum, err := Checksum(ctx, side); err != nil || n != t.Rows || sum != t.Checksum {
		return errkind.Problemsf("side copy of %s does not match the manifest (%d/%s, %v)", t.Name, n, sum, err)
	}
	return nil
}

func (p *Provider) exists(ctx context.Context, coll string) (bool, error) {
	names, err := p.db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: coll}})
	if err != nil {
		return false, fmt.Errorf("list collections: %w", err)
	}
	return len(names) > 0, nil
}

// swap renames side over live: atomically with dropTarget where supported,
// else live -> old, side -> live, drop old. A live collection that is gone
// (dropped by the bad deploy) is simply replaced.
func (p *Provider) swap(ctx context.Context, side, live string, liveExists bool) error {
	if !liveExists {
		if err := p.rename(ctx, side, live, false); err != nil {
			return fmt.Errorf("rename restored %s into place: %w", live, err)
		}
		return nil
	}
	if p.rename(ctx, side, live, true) == nil {
		return nil
	}
	old := live + "_tidemark_old"
	p.db.Collection(old).Drop(ctx) //nolint:errcheck
	if err := p.rename(ctx, live, old, false); err != nil {
		return fmt.Errorf("rename %s aside: %w", live, err)
	}
	if err := p.rename(ctx, side, live, false); err != nil {
		return fmt.Errorf("rename restored %s into place (the original is in %s): %w", live, old, err)
	}
	return p.db.Collection(old).Drop(ctx)
}

func (p *Provider) rename(ctx context.Context, from, to string, dropTarget bool) error {
	ns := func(c string) string { return p.db.Name() + "." + c }
	cmd := bson.D{{Key: "renameCollection", Value: ns(from)}, {Key: "to", Value: ns(to)}}
	if dropTarget {
		cmd = append(cmd, bson.E{Key: "dropTarget", Value: true})
	}
	return p.client.Database("admin").RunCommand(ctx, cmd).Err()
}

// createIndexes creates the indexes (all but _id_) on to.
func createIndexes(ctx context.Context, to *mongo.Collection, specs []*mongo.IndexSpecification) error {
	for _, s := range specs {
		if s.Name == "_id_" {
			continue
		}
		var keys bson.D
		if err := bson.Unmarshal(s.KeysDocument, &keys); err != nil {
			return err
		}
		opts := mongoIndexOptions(s)
		if _, err := to.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: keys, Options: opts}); err != nil {
			return fmt.Errorf("copy index %s: %w", s.Name, err)
		}
	}
	return nil
}
