package deploy

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tidemark/tidemark/internal/records"
)

// ServiceStatus is everything the deploy verbs know about one service.
type ServiceStatus struct {
	Service          string              `json:"service"`
	Version          string              `json:"version,omitempty"`
	Status           string              `json:"status,omitempty"` // deploying, deployed, failed, rolled_back
	LastDeployment   *records.Deployment `json:"last_deployment,omitempty"`
	MigrationVersion *uint64             `json:"migration_version,omitempty"`
	InFlight         []string            `json:"in_flight"`
	Phase            string              `json:"phase,omitempty"`
	LastSnapshot     *SnapshotInfo       `json:"last_snapshot,omitempty"`
	LastReconcile    *ReconcileInfo      `json:"last_reconcile,omitempty"`
	Errors           []string            `json:"errors,omitempty"`
}

// FleetStatusResult is the status of every service of a fleet, in fleet order.
type FleetStatusResult struct {
	Services []ServiceStatus `json:"services"`
	Duration time.Duration   `json:"duration_ns"`
}

// FleetStatus reads every service's state, at most parallel at a time
// (default 16). A service that cannot be read carries its errors; the
// others are still reported.
func FleetStatus(ctx context.Context, f *Fleet, dep DeployerFunc, parallel int) *FleetStatusResult {
	if parallel <= 0 {
		parallel = 16
	}
	t0 := time.Now()
	res := &FleetStatusResult{Services: make([]ServiceStatus, len(f.Services))}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, s := range f.Services {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d, err := dep(ctx, s)
			if err != nil {
				res.Services[i] = ServiceStatus{Service: s.Name, InFlight: []string{}, Errors: []string{err.Error()}}
				return
			}
			res.Services[i] = d.Status(ctx, s)
		}()
	}
	wg.Wait()
	res.Duration = time.Since(t0)
	return res
}

// Status reads one service's state: its records, migration version,
// in-flight expand/contract migrations, last snapshot and last reconcile run.
func (d *Deployer) Status(ctx context.Context, s Service) ServiceStatus {
	out := ServiceStatus{Service: s.Name, InFlight: []string{}}
	fail := func(what string, err error) {
		out.Errors = append(out.Errors, what+": "+err.Error())
	}
	if st, err := records.Open(ctx, d.Control); err != nil {
		fail("records", err)
	} else if dep, err := st.LatestDeployment(ctx, s.Name); err == nil {
		out.LastDeployment, out.Version = &dep, dep.Version
		out.Status = serviceStatus(dep.Result)
	} else if !errors.Is(err, records.ErrNotFound) {
		fail("records", err)
	}
	e, t := d.Engines, s.target()
	if e.Migrations != nil && s.Migrations != "" {
		if v, err := e.Migrations.MigrationVersion(ctx, t, s.Migrations); err != nil {
			fail("migrations", err)
		} else {
			out.MigrationVersion = &v
		}
	}
	if e.Expansions != nil {
		if info, err := e.Expansions.ExpandStatus(ctx, t); err != nil {
			fail("expand", err)
		} else {
			out.InFlight, out.Phase = append(out.InFlight, info.Migrations...), info.Phase
		}
	}
	if e.Snapshots != nil {
		if sn, err := e.Snapshots.LastSnapshot(ctx, t); err != nil {
			fail("snapshots", err)
		} else {
			out.LastSnapshot = sn
		}
	}
	if e.Reconcile != nil {
		if rr, err := e.Reconcile.LastRun(ctx, t); err != nil {
			fail("reconcile", err)
		} else {
			out.LastReconcile = rr
		}
	}
	return out
}

func serviceStatus(r records.Result) string {
	switch r {
	case records.Running:
		return records.StatusDeploying
	case records.Succeeded:
		return records.StatusDeployed
	case records.RolledBack:
		return records.StatusRolledBack
	default:
		return records.StatusFailed
	}
}
