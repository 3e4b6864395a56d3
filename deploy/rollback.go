package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/records"
)

// RollbackOptions configures Rollback.
type RollbackOptions struct {
	// Release to roll back; "" = the service's latest deployment.
	Release string
	// Reason is recorded with the rollback; required.
	Reason string
	// Restore restores the release's pre-deploy snapshot (its tables)
	// instead of undoing the migrations.
	Restore bool
	// DiscardNewer lets Restore overwrite rows changed after the snapshot.
	DiscardNewer bool
}

// RollbackResult is what Rollback did and the state the data is in.
type RollbackResult struct {
	Service      string         `json:"service"`
	Release      string         `json:"release"`
	DeploymentID int64          `json:"deployment_id"`
	Reason       string         `json:"reason"`
	AlreadyDone  bool           `json:"already_done"`
	Expand       *ExpandInfo    `json:"expand,omitempty"`
	Migrate      *MigrateInfo   `json:"migrate,omitempty"`
	Restore      *RestoreInfo   `json:"restore,omitempty"`
	Reconcile    *ReconcileInfo `json:"reconcile,omitempty"`
	// Consistent is false when the reconcile rules found breaks.
	Consistent bool   `json:"consistent"`
	Steps      []Step `json:"steps"`
}

// Rollback undoes a release (see the package doc). The schema steps are
// idempotent, so a re-run after a crash finishes the job; a completed
// rollback returns its recorded result. The error wraps
// errkind.ErrProblemsFound when the reconcile rules found breaks.
func (d *Deployer) Rollback(ctx context.Context, s Service, o RollbackOptions) (*RollbackResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.Reason) == "" {
		return nil, errkind.Usagef("a rollback needs a reason (--reason)")
	}
	release, st, j, err := d.begin(ctx, s, "rollback")
	if err != nil {
		return nil, err
	}
	defer release()
	dep, err := findDeployment(ctx, st, s.Name, o.Release)
	if err != nil {
		return nil, err
	}
	var done RollbackResult
	if ok, err := j.get(ctx, dep.ID, "rollback", &done); err != nil || ok {
		if err != nil {
			return nil, err
		}
		done.AlreadyDone = true
		return &done, done.problems()
	}
	res := &RollbackResult{Service: s.Name, Release: dep.Release, DeploymentID: dep.ID, Reason: o.Reason, Consistent: true}
	if _, err := st.RecordRollback(ctx, records.RollbackInput{DeploymentID: dep.ID, Reason: o.Reason, Result: records.Running}); err != nil {
		return nil, err
	}
	r := &runner{d: d, service: s.Name, verb: "rollback"}
	err = d.rollbackSteps(ctx, r, j, s, o, res)
	res.Steps = r.steps
	wctx := context.WithoutCancel(ctx)
	if err != nil {
		_, rerr := st.RecordRollback(wctx, records.RollbackInput{DeploymentID: dep.ID, Reason: o.Reason, Result: records.Failed,
			Findings: map[string]any{"error": err.Error(), "steps": r.steps}})
		return res, errors.Join(err, rerr)
	}
	if _, err := st.RecordRollback(wctx, records.RollbackInput{DeploymentID: dep.ID, Reason: o.Reason, Result: records.Succeeded,
		Findings: map[string]any{"consistent": res.Consistent, "reconcile": res.Reconcile, "steps": r.steps}}); err != nil {
		return res, err
	}
	if err := j.put(wctx, dep.ID, "rollback", res, false); err != nil {
		return res, err
	}
	return res, res.problems()
}

func (res *RollbackResult) problems() error {
	if res.Consistent {
		return nil
	}
	return errkind.Problemsf("%s rolled back, but the data is inconsistent: %d break(s) found by %s",
		res.Service, res.Reconcile.Breaks, res.Reconcile.Rules)
}

func (d *Deployer) rollbackSteps(ctx context.Context, r *runner, j *journal, s Service, o RollbackOptions, res *RollbackResult) error {
	if o.Restore {
		if err := d.restoreStep(ctx, r, s, o, res); err != nil {
			return err
		}
	} else if err := d.undoSteps(ctx, r, j, s, res); err != nil {
		return err
	}
	return r.run("reconcile", func() (string, bool, error) {
		if d.Engines.Reconcile == nil || s.Rules == "" {
			return "", true, nil
		}
		info, err := d.Engines.Reconcile.Check(ctx, s.Rules)
		if err != nil {
			return "", false, err
		}
		res.Reconcile, res.Consistent = &info, info.Breaks == 0
		r.emit(Event{Step: Step{Name: "reconcile-result"}, Reconcile: &info})
		return fmt.Sprintf("%d break(s), %d in flight", info.Breaks, info.InFlight), false, nil
	})
}

func (d *Deployer) restoreStep(ctx context.Context, r *runner, s Service, o RollbackOptions, res *RollbackResult) error {
	return r.run("restore", func() (string, bool, error) {
		if d.Engines.Snapshots == nil {
			return "", false, errkind.Usagef("--restore: no snapshot engine for %s", s.Name)
		}
		info, err := d.Engines.Snapshots.RestoreSnapshot(ctx, s.target(), RestoreRequest{Label: SnapshotLabel(s.Name, res.Release), Tables: s.SnapshotTables, DiscardNewer: o.DiscardNewer})
		res.Restore = &info
		return "restored " + info.Label + " " + info.Detail, false, err
	})
}

func (d *Deployer) undoSteps(ctx context.Context, r *runner, j *journal, s Service, res *RollbackResult) error {
	e, t := d.Engines, s.target()
	if err := r.run("expand-rollback", func() (string, bool, error) {
		if e.Expansions == nil {
			return "", true, nil
		}
		info, err := e.Expansions.RollbackExpand(ctx, t)
		if err != nil {
			return "", false, err
		}
		res.Expand = &info
		if len(info.Migrations) == 0 {
			return "nothing in flight", false, nil
		}
		return "rolled back " + strings.Join(info.Migrations, ", "), false, nil
	}); err != nil {
		return err
	}
	return r.run("migrate-down", func() (string, bool, error) {
		var before uint64
		ok, err := j.get(ctx, res.DeploymentID, "version-before", &before)
		if err != nil || !ok || e.Migrations == nil || s.Migrations == "" {
			return "", err == nil, err
		}
		now, err := e.Migrations.MigrationVersion(ctx, t, s.Migrations)
		if err != nil || now <= before {
			return fmt.Sprintf("at version %d (recorded before deploy: %d)", now, before), false, err
		}
		info, err := e.Migrations.MigrateTo(ctx, t, s.Migrations, before)
		res.Migrate = &info
		return fmt.Sprintf("version %d -> %d", info.From, info.To), false, err
	})
}
