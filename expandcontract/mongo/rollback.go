package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Rollback undoes every in-flight migration of db, newest first, at any
// moment before contract (a half-done expand included): documents written
// in the new shape get their old fields (down), then the new fields and the
// sync stamps are $unset, created indexes dropped and the recorded
// validators restored. With nothing to roll back it succeeds.
func Rollback(ctx context.Context, client *mongo.Client, db string, opts Options) (*Result, error) {
	r, states, err := beginFinish(ctx, client, db, opts, func(s *migState) error {
		if s.Phase == PhaseContracting {
			return errkind.Preconditionf("%s is contracting (old fields already removed): run contract again; rollback is no longer possible", s.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer r.close()
	res := &Result{Database: db}
	for i := len(states) - 1; i >= 0; i-- {
		s := states[i]
		if !s.Phase.inFlight() {
			continue
		}
		if err := r.rollbackOne(ctx, s); err != nil {
			return res, err
		}
		res.Migrations = append(res.Migrations, resultOf(s, "rollback", false))
	}
	return res, nil
}

func (r *run) rollbackOne(ctx context.Context, s *migState) error {
	s.Phase = PhaseRollingBack
	if err := r.saveRenew(ctx, s); err != nil {
		return err
	}
	m := s.Migration
	for i := len(m.Operations) - 1; i >= 0; i-- {
		op := m.Operations[i]
		if spec := specFor(m, i); spec != nil && spec.Down != nil {
			err := r.step(ctx, s, "converge:"+spec.ID, func() error {
				_, err := r.converge(ctx, s, spec, "rollback", downOnly, r.opts.MaxFinalPasses)
				return err
			})
			if err != nil {
				return fmt.Errorf("converge %s: %w", spec, err)
			}
		}
		fields := newFields(op)
		if err := r.step(ctx, s, fmt.Sprintf("unset:%d", i), func() error { return r.unset(ctx, m, i, fields) }); err != nil {
			return err
		}
		if op.Kind == CreateIndex {
			if err := r.step(ctx, s, "drop-index:"+op.Name, func() error { return r.dropIndex(ctx, op.Collection, op.Name) }); err != nil {
				return err
			}
		}
	}
	for _, coll := range m.collections() {
		if err := r.step(ctx, s, "validator:"+coll, func() error { return r.rollbackValidator(ctx, s, coll) }); err != nil {
			return err
		}
	}
	return r.finish(ctx, s, PhaseRolledBack)
}
