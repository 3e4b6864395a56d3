package deploy

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/records"
)

// FinishOptions configures Finish.
type FinishOptions struct {
	// Release to finish; "" = the service's latest deployment.
	Release string
}

// FinishResult is what Finish did.
type FinishResult struct {
	Service      string      `json:"service"`
	Release      string      `json:"release"`
	DeploymentID int64       `json:"deployment_id"`
	AlreadyDone  bool        `json:"already_done"`
	Contract     *ExpandInfo `json:"contract,omitempty"`
	Steps        []Step      `json:"steps"`
}

// Finish runs after the new version is fully rolled out: it contracts the
// in-flight expand/contract migrations (the engine refuses with exit 3 while
// clients still use the old version) and records the deployment as
// succeeded. Running it again returns the recorded result.
func (d *Deployer) Finish(ctx context.Context, s Service, o FinishOptions) (*FinishResult, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	release, st, j, err := d.begin(ctx, s, "finish")
	if err != nil {
		return nil, err
	}
	defer release()
	dep, err := findDeployment(ctx, st, s.Name, o.Release)
	if err != nil {
		return nil, err
	}
	res := &FinishResult{Service: s.Name, Release: dep.Release, DeploymentID: dep.ID}
	var done FinishResult
	if ok, err := j.get(ctx, dep.ID, "finish", &done); err != nil || ok {
		done.AlreadyDone = true
		return &done, err
	}
	if dep.Result == records.RolledBack {
		return nil, errkind.Preconditionf("release %s of %s was rolled back: nothing to finish", dep.Release, s.Name)
	}
	r := &runner{d: d, service: s.Name, verb: "finish"}
	err = r.run("contract", func() (string, bool, error) {
		if d.Engines.Expansions == nil {
			return "", true, nil
		}
		// Whatever is in flight is contracted, whether or not this run was
		// given the expand files (nothing in flight: nothing to do).
		info, err := d.Engines.Expansions.Contract(ctx, s.target())
		res.Contract = &info
		if err == nil && len(info.Migrations) == 0 {
			return "nothing in flight", false, nil
		}
		return fmt.Sprintf("%d migration(s) contracted", len(info.Migrations)), false, err
	})
	res.Steps = r.steps
	if err != nil {
		return res, err
	}
	if _, err := st.FinishDeployment(ctx, dep.ID, records.Succeeded, map[string]any{"finished": true}); err != nil {
		return res, err
	}
	return res, j.put(ctx, dep.ID, "finish", res, false)
}

// findDeployment returns the (service, release) deployment, or the service's
// latest when release is empty.
func findDeployment(ctx context.Context, st *records.Store, service, release string) (records.Deployment, error) {
	var dep records.Deployment
	var err error
	if release == "" {
		dep, err = st.LatestDeployment(ctx, service)
	} else {
		dep, err = st.FindDeployment(ctx, service, release)
	}
	if errors.Is(err, records.ErrNotFound) {
		what := service
		if release != "" {
			what += " release " + release
		}
		return dep, fmt.Errorf("%w: %w for %s", errkind.ErrPrecondition, ErrNoDeployment, what)
	}
	return dep, err
}
