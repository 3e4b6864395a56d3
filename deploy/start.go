package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/records"
)

// StartResult is what Start did and what the new service version must use.
type StartResult struct {
	Service      string        `json:"service"`
	Release      string        `json:"release"`
	DeploymentID int64         `json:"deployment_id"`
	Attempt      int           `json:"attempt"`
	AlreadyDone  bool          `json:"already_done"` // a re-run returning the recorded result
	Snapshot     *SnapshotInfo `json:"snapshot,omitempty"`
	Migrate      *MigrateInfo  `json:"migrate,omitempty"`
	Expand       *ExpandInfo   `json:"expand,omitempty"`
	// VersionSchema and SearchPath are what the new version must use
	// (empty when no expand/contract migration runs).
	VersionSchema string `json:"version_schema,omitempty"`
	SearchPath    string `json:"search_path,omitempty"`
	Steps         []Step `json:"steps"`
}

// Start is the pre-deploy step of a release (see the package doc). Running it
// again for the same (service, release) continues a crashed run, or returns
// the recorded result when it had completed.
func (d *Deployer) Start(ctx context.Context, s Service, o StartOptions) (*StartResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if o.Release == "" {
		return nil, errkind.Usagef("a release is required (--release)")
	}
	release, st, j, err := d.begin(ctx, s, "start")
	if err != nil {
		return nil, err
	}
	defer release()
	if done, err := recordedStart(ctx, st, j, s.Name, o.Release); done != nil || err != nil {
		return done, err
	}
	dep, err := st.StartDeployment(ctx, records.Start{Service: s.Name, Release: o.Release, Version: o.Version})
	if err != nil {
		return nil, err
	}
	res := &StartResult{Service: s.Name, Release: o.Release, DeploymentID: dep.ID, Attempt: dep.Attempts}
	r := &runner{d: d, service: s.Name, verb: "start"}
	err = d.startSteps(ctx, r, j, s, o, res)
	res.Steps = r.steps
	if err != nil {
		if _, ferr := st.FinishDeployment(context.WithoutCancel(ctx), dep.ID, records.Failed, map[string]any{"error": err.Error()}); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return res, err
	}
	if err := j.put(ctx, dep.ID, "start", res, false); err != nil {
		return res, err
	}
	return res, nil
}

func (d *Deployer) startSteps(ctx context.Context, r *runner, j *journal, s Service, o StartOptions, res *StartResult) error {
	e, t := d.Engines, s.target()
	if err := r.run("record-version", func() (string, bool, error) {
		if e.Migrations == nil || s.Migrations == "" {
			return "", true, nil
		}
		v, err := e.Migrations.MigrationVersion(ctx, t, s.Migrations)
		if err != nil {
			return "", false, err
		}
		// First write wins: a re-run keeps the version from before the deploy.
		return fmt.Sprintf("version before deploy: %d", v), false, j.put(ctx, res.DeploymentID, "version-before", v, true)
	}); err != nil {
		return err
	}
	if err := r.run("snapshot", func() (string, bool, error) {
		if e.Snapshots == nil || o.Snapshot == SnapshotNone {
			return "", true, nil
		}
		info, err := e.Snapshots.CreateSnapshot(ctx, t, SnapshotRequest{Label: SnapshotLabel(s.Name, o.Release), Tables: s.SnapshotTables})
		if err != nil {
			return "", false, err
		}
		res.Snapshot = &info
		return "label " + info.Label, false, j.put(ctx, res.DeploymentID, "snapshot", info, false)
	}); err != nil {
		return err
	}
	if err := r.run("migrate", func() (string, bool, error) {
		if e.Migrations == nil || s.Migrations == "" {
			return "", true, nil
		}
		info, err := e.Migrations.MigrateUp(ctx, t, s.Migrations)
		res.Migrate = &info
		return fmt.Sprintf("version %d -> %d (%d applied)", info.From, info.To, info.Applied), false, err
	}); err != nil {
		return err
	}
	return r.run("expand", func() (string, bool, error) {
		if e.Expansions == nil || len(s.Expand) == 0 {
			return "", true, nil
		}
		info, err := e.Expansions.Expand(ctx, t, s.Expand)
		if err != nil {
			return "", false, err
		}
		res.Expand, res.VersionSchema, res.SearchPath = &info, info.VersionSchema, info.SearchPath
		r.emit(Event{Step: Step{Name: "expand-progress"}, Expand: &info})
		return "version schema " + info.VersionSchema, false, nil
	})
}

// recordedStart returns the recorded result of a completed start of the
// release (a re-run changes nothing, the records included). A release that
// was rolled back starts over.
func recordedStart(ctx context.Context, st *records.Store, j *journal, service, release string) (*StartResult, error) {
	prev, err := st.FindDeployment(ctx, service, release)
	if errors.Is(err, records.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if prev.Result == records.RolledBack {
		return nil, j.del(ctx, prev.ID, "start", "finish", "rollback")
	}
	var done StartResult
	ok, err := j.get(ctx, prev.ID, "start", &done)
	if err != nil || !ok {
		return nil, err
	}
	done.AlreadyDone, done.Attempt = true, prev.Attempts
	return &done, nil
}
