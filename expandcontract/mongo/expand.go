package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Expand starts migs as one version on database db: validators that accept
// both shapes, new indexes, and a backfill that keeps old and new fields in
// step. It is idempotent: run again after a crash, it finishes the job.
func Expand(ctx context.Context, client *mongo.Client, db string, migs []*Migration, opts Options) (*Result, error) {
	if err := checkNames(migs); err != nil {
		return nil, err
	}
	r, err := newRun(ctx, client, db, opts)
	if err != nil {
		return nil, err
	}
	defer r.close()
	states, err := r.st.list(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkOthersInFlight(states, migs); err != nil {
		return nil, err
	}
	res := &Result{Database: db}
	seq := time.Now().UnixNano()
	for i, m := range migs {
		s, unchanged, err := r.prepareExpand(ctx, states, m, seq+int64(i))
		if err != nil {
			return res, err
		}
		prefix := "expand"
		switch {
		case !unchanged:
			err = r.expandOne(ctx, s)
		case s.Phase == PhaseExpanded:
			prefix, err = "sync", r.syncOne(ctx, s)
		}
		if err != nil {
			return res, err
		}
		res.Migrations = append(res.Migrations, resultOf(s, prefix, unchanged))
	}
	return res, nil
}

func checkNames(migs []*Migration) error {
	if len(migs) == 0 {
		return errkind.Usagef("no migration given")
	}
	seen := map[string]bool{}
	for _, m := range migs {
		if seen[m.Name] {
			return errkind.Usagef("migration name %q given twice", m.Name)
		}
		seen[m.Name] = true
	}
	return nil
}

func checkOthersInFlight(states []*migState, migs []*Migration) error {
	for _, s := range states {
		if !s.Phase.inFlight() {
			continue
		}
		found := false
		for _, m := range migs {
			found = found || m.Name == s.Name
		}
		if !found {
			return errkind.Preconditionf("%w: %s is %s; run contract or rollback first", ErrInFlight, s.Name, s.Phase)
		}
	}
	return nil
}

// prepareExpand finds or creates m's state; unchanged means nothing to do.
func (r *run) prepareExpand(ctx context.Context, states []*migState, m *Migration, seq int64) (*migState, bool, error) {
	var s *migState
	for _, x := range states {
		if x.Name == m.Name {
			s = x
		}
	}
	switch {
	case s == nil || s.Phase == PhaseRolledBack:
		s = r.st.newState(m, seq)
		return s, false, r.st.save(ctx, s)
	case s.Phase == PhaseContracted:
		return s, true, nil
	case s.Migration.Checksum != m.Checksum:
		return nil, false, errkind.Preconditionf("%w: %s differs from the file its expand started with; rollback first", ErrChanged, m.File)
	case s.Phase == PhaseExpanded:
		return s, true, nil
	case s.Phase != PhaseExpanding:
		return nil, false, errkind.Preconditionf("%s is %s: run %s again", s.Name, s.Phase, verbOf(s.Phase))
	}
	r.opts.Logger.Info("resuming expand", "migration", s.Name)
	return s, false, nil
}

func verbOf(p Phase) string {
	if p == PhaseContracting {
		return "contract"
	}
	return "rollback"
}

// expandOne runs the expand steps of one migration, each at most once.
func (r *run) expandOne(ctx context.Context, s *migState) error {
	m := s.Migration
	for _, coll := range m.collections() {
		if err := r.step(ctx, s, "validator:"+coll, func() error { return r.expandValidator(ctx, s, coll) }); err != nil {
			return err
		}
	}
	for _, op := range m.Operations {
		if op.Kind == CreateIndex {
			if err := r.step(ctx, s, "index:"+op.Name, func() error { return r.createIndex(ctx, op) }); err != nil {
				return err
			}
		}
	}
	for i := range m.Operations {
		spec := specFor(m, i)
		if spec == nil {
			continue
		}
		err := r.step(ctx, s, spec.ID, func() error {
			_, err := r.converge(ctx, s, spec, "expand", both, r.opts.MaxExpandPasses)
			return err
		})
		if err != nil {
			return fmt.Errorf("backfill %s: %w", spec, err)
		}
	}
	s.Phase = PhaseExpanded
	if err := r.saveRenew(ctx, s); err != nil {
		return err
	}
	r.opts.Logger.Info("expanded", "migration", s.Name)
	r.hook("expanded:" + s.Name)
	return nil
}

// syncOne runs a new convergence round (both directions) on an expanded
// migration: expand run again during the window brings documents written
// since by either version up to date.
func (r *run) syncOne(ctx context.Context, s *migState) error {
	m := s.Migration
	for i := range m.Operations {
		delete(s.Progress, fmt.Sprintf("sync_sync-%d", i))
	}
	for i := range m.Operations {
		if spec := specFor(m, i); spec != nil {
			if _, err := r.converge(ctx, s, spec, "sync", both, r.opts.MaxExpandPasses); err != nil {
				return fmt.Errorf("sync %s: %w", spec, err)
			}
		}
	}
	return nil
}
