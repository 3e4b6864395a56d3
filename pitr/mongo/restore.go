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

// restoreOne copies the snapshot (collection or .bson file) into a side collection with the live
// collection's indexes, checks it, and renames it over the live one.
func (p *Provider) restoreOne(ctx context.Context, t pitr.TableSum) error {
	side := p.db.Collection(t.Name + "_tidemark_restore")
	if err := p.fill(ctx, t, side); err != nil {
		return err
	}
	if err := copyIndexes(ctx, p.db.Collection(t.Name), side); err != nil {
		return err
	}
	if n, sum, err := Checksum(ctx, side); err != nil || n != t.Rows || sum != t.Checksum {
		return errkind.Problemsf("side copy of %s does not match the manifest (%d/%s, %v)", t.Name, n, sum, err)
	}
	return p.swap(ctx, side.Name(), t.Name)
}

// swap renames side over live: atomically with dropTarget where supported,
// else live -> old, side -> live, drop old.
func (p *Provider) swap(ctx context.Context, side, live string) error {
	admin := p.client.Database("admin")
	ns := func(c string) string { return p.db.Name() + "." + c }
	err := admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: ns(side)}, {Key: "to", Value: ns(live)}, {Key: "dropTarget", Value: true}}).Err()
	if err == nil {
		return nil
	}
	old := live + "_tidemark_old"
	p.db.Collection(old).Drop(ctx) //nolint:errcheck
	if err := admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: ns(live)}, {Key: "to", Value: ns(old)}}).Err(); err != nil {
		return fmt.Errorf("rename %s aside: %w", live, err)
	}
	if err := admin.RunCommand(ctx, bson.D{{Key: "renameCollection", Value: ns(side)}, {Key: "to", Value: ns(live)}}).Err(); err != nil {
		return fmt.Errorf("rename restored %s into place (the original is in %s): %w", live, old, err)
	}
	return p.db.Collection(old).Drop(ctx)
}

func copyIndexes(ctx context.Context, from, to *mongo.Collection) error {
	specs, err := from.Indexes().ListSpecifications(ctx)
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", from.Name(), err)
	}
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
