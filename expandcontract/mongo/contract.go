package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Contract finishes every expanded migration of db, in start order: a final
// convergence of old-version writes, $unset of the old fields and the sync
// stamps, dropped indexes, and validators that require the new shape. Run it
// once no old-version writer is left. With nothing to contract it succeeds
// with an empty result.
func Contract(ctx context.Context, client *mongo.Client, db string, opts Options) (*Result, error) {
	r, states, err := beginFinish(ctx, client, db, opts, func(s *migState) error {
		switch s.Phase {
		case PhaseExpanding:
			return errkind.Preconditionf("%w: %s: run expand again to finish it, or rollback", ErrNotExpanded, s.Name)
		case PhaseRollingBack:
			return errkind.Preconditionf("%s is rolling back: run rollback again", s.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer r.close()
	res := &Result{Database: db}
	for _, s := range states {
		if s.Phase != PhaseExpanded && s.Phase != PhaseContracting {
			continue
		}
		if err := r.contractOne(ctx, s); err != nil {
			return res, err
		}
		res.Migrations = append(res.Migrations, resultOf(s, "contract", false))
	}
	return res, nil
}

func (r *run) contractOne(ctx context.Context, s *migState) error {
	s.Phase = PhaseContracting
	if err := r.saveRenew(ctx, s); err != nil {
		return err
	}
	m := s.Migration
	for i, op := range m.Operations {
		if spec := specFor(m, i); spec != nil {
			err := r.step(ctx, s, "converge:"+spec.ID, func() error {
				_, err := r.converge(ctx, s, spec, "contract", upOnly, r.opts.MaxFinalPasses)
				return err
			})
			if err != nil {
				return fmt.Errorf("converge %s: %w", spec, err)
			}
		}
		fields := oldFields(op)
		if err := r.step(ctx, s, fmt.Sprintf("unset:%d", i), func() error { return r.unset(ctx, m, i, fields) }); err != nil {
			return err
		}
		if op.Kind == DropIndex {
			if err := r.step(ctx, s, "drop-index:"+op.Name, func() error { return r.dropIndex(ctx, op.Collection, op.Name) }); err != nil {
				return err
			}
		}
	}
	for _, coll := range m.collections() {
		if err := r.step(ctx, s, "validator:"+coll, func() error { return r.contractValidator(ctx, s, coll) }); err != nil {
			return err
		}
	}
	return r.finish(ctx, s, PhaseContracted)
}

func (r *run) finish(ctx context.Context, s *migState, p Phase) error {
	now := time.Now().UTC()
	s.Phase, s.FinishedAt = p, &now
	if err := r.saveRenew(ctx, s); err != nil {
		return err
	}
	r.opts.Logger.Info(string(p), "migration", s.Name)
	r.hook(string(p) + ":" + s.Name)
	return nil
}

// unset removes fields (and operation i's sync stamp) from every document
// that has any of them. It is idempotent.
func (r *run) unset(ctx context.Context, m *Migration, i int, fields []string) error {
	op := m.Operations[i]
	if op.Kind == CreateIndex || op.Kind == DropIndex {
		return nil
	}
	if specFor(m, i) != nil {
		fields = append(fields, stampKey(m.Name, i))
	}
	if len(fields) == 0 {
		return nil
	}
	var or bson.A
	un := bson.D{}
	for _, f := range fields {
		or = append(or, bson.D{{Key: f, Value: bson.D{{Key: "$exists", Value: true}}}})
		un = append(un, bson.E{Key: f, Value: ""})
	}
	_, err := r.coll(op.Collection).UpdateMany(ctx, bson.D{{Key: "$or", Value: or}}, bson.D{{Key: "$unset", Value: un}})
	if err != nil {
		return fmt.Errorf("unset %v in %s: %w", fields, op.Collection, err)
	}
	return nil
}
