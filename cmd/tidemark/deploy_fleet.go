package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tidemark/tidemark/deploy"
)

func (s *deploySession) fleetDeployers(fl *deploy.Fleet) deploy.DeployerFunc {
	stateURL := firstNonEmpty(s.f.stateURL, fl.StateURL)
	return func(ctx context.Context, svc deploy.Service) (*deploy.Deployer, error) {
		return s.deployer(ctx, svc, stateURL)
	}
}

func (a *app) fleetRollback(ctx context.Context, s *deploySession, rf *rollbackFlags) error {
	fl, err := deploy.LoadFleet(s.f.fleet)
	if err != nil {
		return err
	}
	sel := deploy.Selection{All: rf.all, Release: s.f.release}
	if s.f.service != "" {
		sel.Services = strings.Split(s.f.service, ",")
	}
	res, err := deploy.RollbackFleet(ctx, fl, s.fleetDeployers(fl), deploy.FleetRollbackOptions{
		Selection: sel, Reason: rf.reason, Restore: rf.restore, DiscardNewer: rf.discard, Parallel: rf.parallel})
	if res == nil {
		return err
	}
	kv := [][2]string{}
	for _, st := range []string{deploy.StateRolledBack, deploy.StateInconsistent, deploy.StateFailed, deploy.StateBlocked} {
		kv = append(kv, [2]string{st, strconv.Itoa(res.Counts[st])})
	}
	if gerr := s.githubOutput(kv); gerr != nil {
		err = errors.Join(err, gerr)
	}
	return errors.Join(err, a.render(res, func(w io.Writer) {
		fmt.Fprintf(w, "fleet rollback: %d service(s) in %s\n", len(res.Services), res.Duration.Round(time.Millisecond))
		fmt.Fprintf(w, "  %-20s %-22s %-12s %s\n", "SERVICE", "STATE", "RELEASE", "DETAIL")
		for _, o := range res.Services {
			detail := o.Detail
			if o.Error != "" {
				detail = strings.TrimPrefix(detail+"; error: "+o.Error, "; ")
			}
			fmt.Fprintf(w, "  %-20s %-22s %-12s %s\n", o.Service, o.State, o.Release, detail)
		}
	}))
}

func (a *app) deployStatus(ctx context.Context, f *deployFlags, parallel int) (err error) {
	s := a.newDeploySession(f)
	defer func() { err = errors.Join(err, s.close()) }()
	var fl *deploy.Fleet
	if f.fleet != "" {
		if fl, err = deploy.LoadFleet(f.fleet); err != nil {
			return err
		}
	} else {
		svc, _, err := s.service()
		if err != nil {
			return err
		}
		if fl, err = deploy.NewFleet(f.stateURL, []deploy.Service{svc}); err != nil {
			return err
		}
	}
	res := deploy.FleetStatus(ctx, fl, s.fleetDeployers(fl), parallel)
	return a.render(res, func(w io.Writer) { renderFleetStatus(w, res) })
}

func renderFleetStatus(w io.Writer, res *deploy.FleetStatusResult) {
	fmt.Fprintf(w, "%-20s %-12s %-12s %-8s %-28s %-28s %s\n", "SERVICE", "VERSION", "STATUS", "MIGRATE", "IN FLIGHT", "LAST SNAPSHOT", "LAST RECONCILE")
	for _, st := range res.Services {
		mig, snap, rec := "-", "-", "-"
		if st.MigrationVersion != nil {
			mig = strconv.FormatUint(*st.MigrationVersion, 10)
		}
		if st.LastSnapshot != nil {
			snap = st.LastSnapshot.Label
		}
		if st.LastReconcile != nil {
			rec = fmt.Sprintf("%d break(s) %s", st.LastReconcile.Breaks, st.LastReconcile.At.Format(time.RFC3339))
		}
		inflight := strings.Join(st.InFlight, ",")
		if inflight == "" {
			inflight = "-"
		} else if st.Phase != "" {
			inflight += " (" + st.Phase + ")"
		}
		fmt.Fprintf(w, "%-20s %-12s %-12s %-8s %-28s %-28s %s\n", st.Service, dash(st.Version), dash(st.Status), mig, inflight, snap, rec)
		for _, e := range st.Errors {
			fmt.Fprintf(w, "  ! %s\n", e)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
