package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/records"
)

// Selection chooses fleet services: by name, all of them, or those whose
// latest deployment is a release.
type Selection struct {
	Services []string
	All      bool
	Release  string
}

// FleetRollbackOptions configures RollbackFleet.
type FleetRollbackOptions struct {
	Selection
	Reason       string
	Restore      bool
	DiscardNewer bool
	// Parallel bounds how many services roll back at once (default 4).
	Parallel int
}

// Service states in a fleet rollback summary.
const (
	StateRolledBack   = "rolled_back"          // schema rolled back, data consistent (or no rules)
	StateInconsistent = "rolled_back_breaks"   // schema rolled back, reconcile found breaks
	StateFailed       = "failed"               // the rollback failed; see error and steps
	StateBlocked      = "blocked"              // not attempted: a service it waits for failed
	StateNotDeployed  = "nothing_to_roll_back" // no deployment recorded (or not of the release)
	StateInterrupted  = "not_started"          // not attempted: the run was cancelled
)

// ServiceOutcome is one service's state after a fleet rollback.
type ServiceOutcome struct {
	Service  string          `json:"service"`
	State    string          `json:"state"`
	Release  string          `json:"release,omitempty"`
	Detail   string          `json:"detail,omitempty"`
	Error    string          `json:"error,omitempty"`
	Duration time.Duration   `json:"duration_ns"`
	Result   *RollbackResult `json:"result,omitempty"`
}

// FleetRollbackResult summarises a fleet rollback, one entry per selected
// service in the order they finished.
type FleetRollbackResult struct {
	Services []ServiceOutcome `json:"services"`
	Counts   map[string]int   `json:"counts"`
	Duration time.Duration    `json:"duration_ns"`
}

// DeployerFunc returns the Deployer to use for a fleet service (its control
// database is the fleet's state_url or the service's own database).
type DeployerFunc func(ctx context.Context, s Service) (*Deployer, error)

// RollbackFleet rolls back the selected services in reverse dependency order
// (a service is rolled back after every selected service that depends on it),
// at most Parallel at a time, higher priority first among those ready. A
// failure blocks the services that wait for it, not unrelated ones. The error
// is nil when every service ended rolled back and consistent, of kind
// errkind.ErrProblemsFound when the only problems are data breaks, else a
// failure naming the failed and blocked services.
func RollbackFleet(ctx context.Context, f *Fleet, dep DeployerFunc, o FleetRollbackOptions) (*FleetRollbackResult, error) {
	if strings.TrimSpace(o.Reason) == "" {
		return nil, errkind.Usagef("a rollback needs a reason (--reason)")
	}
	sel, err := f.selectServices(ctx, dep, o.Selection)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	s := &scheduler{f: f, waitsFor: f.rollbackOrder(sel), parallel: max(1, o.Parallel), out: map[string]ServiceOutcome{}}
	if o.Parallel == 0 {
		s.parallel = 4
	}
	res := &FleetRollbackResult{Counts: map[string]int{}}
	res.Services = s.run(ctx, sel, func(ctx context.Context, svc Service) ServiceOutcome {
		return rollbackOne(ctx, dep, svc, o)
	})
	res.Duration = time.Since(t0)
	for _, so := range res.Services {
		res.Counts[so.State]++
	}
	return res, res.err()
}

func (r *FleetRollbackResult) err() error {
	var failed, blocked, breaks []string
	for _, so := range r.Services {
		switch so.State {
		case StateFailed, StateInterrupted:
			failed = append(failed, so.Service)
		case StateBlocked:
			blocked = append(blocked, so.Service)
		case StateInconsistent:
			breaks = append(breaks, so.Service)
		}
	}
	switch {
	case len(failed)+len(blocked) > 0:
		return fmt.Errorf("fleet rollback incomplete: failed or interrupted: [%s]; blocked: [%s]", strings.Join(failed, " "), strings.Join(blocked, " "))
	case len(breaks) > 0:
		return errkind.Problemsf("fleet rolled back, but reconcile found breaks in: %s", strings.Join(breaks, " "))
	}
	return nil
}

func rollbackOne(ctx context.Context, dep DeployerFunc, s Service, o FleetRollbackOptions) ServiceOutcome {
	t0 := time.Now()
	out := ServiceOutcome{Service: s.Name, Release: o.Release}
	d, err := dep(ctx, s)
	if err == nil {
		out.Result, err = d.Rollback(ctx, s, RollbackOptions{Release: o.Release, Reason: o.Reason, Restore: o.Restore, DiscardNewer: o.DiscardNewer})
	}
	out.Duration = time.Since(t0)
	switch {
	case errors.Is(err, ErrNoDeployment):
		out.State, out.Detail = StateNotDeployed, err.Error()
	case err == nil:
		out.State = StateRolledBack
	case errors.Is(err, errkind.ErrProblemsFound) && out.Result != nil:
		out.State, out.Error = StateInconsistent, err.Error()
	default:
		out.State, out.Error = StateFailed, err.Error()
	}
	if out.Result != nil {
		out.Release = out.Result.Release
		out.Detail = stepSummary(out.Result.Steps)
	}
	return out
}

func stepSummary(steps []Step) string {
	var parts []string
	for _, s := range steps {
		if s.Status != StepSkipped {
			parts = append(parts, s.Name+": "+s.Status)
		}
	}
	return strings.Join(parts, ", ")
}

// selectServices resolves a selection to fleet services.
func (f *Fleet) selectServices(ctx context.Context, dep DeployerFunc, sel Selection) ([]Service, error) {
	var out []Service
	switch {
	case len(sel.Services) > 0:
		for _, n := range sel.Services {
			s, ok := f.Service(n)
			if !ok {
				return nil, errkind.Usagef("service %q is not in the fleet", n)
			}
			out = append(out, s)
		}
	case sel.All || sel.Release != "":
		out = append(out, f.Services...)
	default:
		return nil, errkind.Usagef("choose services: --service NAME[,NAME], --all or --release R")
	}
	if sel.Release == "" || sel.All || len(sel.Services) > 0 {
		return out, nil
	}
	var inRelease []Service
	for _, s := range out {
		ok, err := deployedRelease(ctx, dep, s, sel.Release)
		if err != nil {
			return nil, err
		}
		if ok {
			inRelease = append(inRelease, s)
		}
	}
	return inRelease, nil
}

func deployedRelease(ctx context.Context, dep DeployerFunc, s Service, release string) (bool, error) {
	d, err := dep(ctx, s)
	if err != nil {
		return false, err
	}
	st, err := records.Open(ctx, d.Control)
	if err != nil {
		return false, err
	}
	_, err = st.FindDeployment(ctx, s.Name, release)
	if errors.Is(err, records.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// rollbackOrder returns, for each selected service, the selected services
// that must be rolled back before it: those depending on it, directly or
// through services left out of the selection.
func (f *Fleet) rollbackOrder(sel []Service) map[string][]string {
	in := map[string]bool{}
	for _, s := range sel {
		in[s.Name] = true
	}
	waits := map[string][]string{}
	for _, a := range sel {
		seen := map[string]bool{}
		var walk func(string)
		walk = func(n string) {
			s, _ := f.Service(n)
			for _, b := range s.DependsOn {
				if seen[b] {
					continue
				}
				seen[b] = true
				if in[b] {
					waits[b] = append(waits[b], a.Name)
				}
				walk(b)
			}
		}
		walk(a.Name)
	}
	return waits
}
