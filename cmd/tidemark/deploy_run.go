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
	"github.com/tidemark/tidemark/internal/errkind"
)

func (a *app) deployStart(ctx context.Context, f *deployFlags, version, snapshot string) (err error) {
	s := a.newDeploySession(f)
	defer func() { err = errors.Join(err, s.close()) }()
	svc, stateURL, err := s.service()
	if err != nil {
		return err
	}
	mode := deploy.SnapshotAuto
	switch snapshot {
	case "auto", "":
	case "none":
		mode = deploy.SnapshotNone
	default:
		return errkind.Usagef("--snapshot %q: want auto or none", snapshot)
	}
	d, err := s.deployer(ctx, svc, stateURL)
	if err != nil {
		return err
	}
	res, err := d.Start(ctx, svc, deploy.StartOptions{Release: f.release, Version: version, Snapshot: mode, LockTimeout: f.lockTimeout})
	if res == nil {
		return err
	}
	if gerr := s.githubOutput(startOutputs(res)); gerr != nil {
		err = errors.Join(err, gerr)
	}
	return errors.Join(err, a.render(res, func(w io.Writer) { renderStart(w, res) }))
}

func startOutputs(r *deploy.StartResult) [][2]string {
	kv := [][2]string{{"service", r.Service}, {"release", r.Release}, {"deployment_id", strconv.FormatInt(r.DeploymentID, 10)},
		{"version_schema", r.VersionSchema}, {"search_path", r.SearchPath}}
	if r.Snapshot != nil {
		kv = append(kv, [2]string{"snapshot", r.Snapshot.Label})
	}
	return kv
}

func renderStart(w io.Writer, r *deploy.StartResult) {
	state := "started"
	if r.AlreadyDone {
		state = "already started (recorded result)"
	}
	fmt.Fprintf(w, "deploy %s: %s release %s (deployment %d, attempt %d)\n", state, r.Service, r.Release, r.DeploymentID, r.Attempt)
	renderSteps(w, r.Steps)
	if r.SearchPath != "" {
		fmt.Fprintf(w, "new version must use: version_schema=%s search_path=%s\n", r.VersionSchema, r.SearchPath)
	}
}

func renderSteps(w io.Writer, steps []deploy.Step) {
	for _, s := range steps {
		line := fmt.Sprintf("  %-16s %-8s %6s  %s", s.Name, s.Status, s.Duration.Round(time.Millisecond), s.Detail)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
}

func (a *app) deployFinish(ctx context.Context, f *deployFlags) (err error) {
	s := a.newDeploySession(f)
	defer func() { err = errors.Join(err, s.close()) }()
	svc, stateURL, err := s.service()
	if err != nil {
		return err
	}
	d, err := s.deployer(ctx, svc, stateURL)
	if err != nil {
		return err
	}
	res, err := d.Finish(ctx, svc, deploy.FinishOptions{Release: f.release})
	if res == nil {
		return err
	}
	if gerr := s.githubOutput([][2]string{{"service", res.Service}, {"release", res.Release}, {"finished", strconv.FormatBool(err == nil)}}); gerr != nil {
		err = errors.Join(err, gerr)
	}
	return errors.Join(err, a.render(res, func(w io.Writer) {
		fmt.Fprintf(w, "deploy finish: %s release %s (deployment %d)%s\n", res.Service, res.Release, res.DeploymentID, map[bool]string{true: " already finished (recorded result)"}[res.AlreadyDone])
		renderSteps(w, res.Steps)
	}))
}

func (a *app) deployRollback(ctx context.Context, f *deployFlags, rf *rollbackFlags) (err error) {
	s := a.newDeploySession(f)
	defer func() { err = errors.Join(err, s.close()) }()
	if f.fleet != "" && (rf.all || strings.Contains(f.service, ",") || f.service == "") {
		return a.fleetRollback(ctx, s, rf)
	}
	svc, stateURL, err := s.service()
	if err != nil {
		return err
	}
	d, err := s.deployer(ctx, svc, stateURL)
	if err != nil {
		return err
	}
	res, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Release: f.release, Reason: rf.reason, Restore: rf.restore, DiscardNewer: rf.discard})
	if res == nil {
		return err
	}
	if gerr := s.githubOutput(rollbackOutputs(res)); gerr != nil {
		err = errors.Join(err, gerr)
	}
	return errors.Join(err, a.render(res, func(w io.Writer) { renderRollback(w, res) }))
}

func rollbackOutputs(r *deploy.RollbackResult) [][2]string {
	breaks := 0
	if r.Reconcile != nil {
		breaks = r.Reconcile.Breaks
	}
	return [][2]string{{"service", r.Service}, {"release", r.Release}, {"consistent", strconv.FormatBool(r.Consistent)}, {"breaks", strconv.Itoa(breaks)}}
}

func renderRollback(w io.Writer, r *deploy.RollbackResult) {
	state := "rolled back"
	if r.AlreadyDone {
		state = "already rolled back (recorded result)"
	}
	fmt.Fprintf(w, "deploy rollback: %s release %s %s (deployment %d), reason: %s\n", r.Service, r.Release, state, r.DeploymentID, r.Reason)
	renderSteps(w, r.Steps)
	switch {
	case r.Reconcile == nil:
		fmt.Fprintln(w, "data: not checked (no reconcile rules)")
	case r.Consistent:
		fmt.Fprintf(w, "data: consistent (%d in flight)\n", r.Reconcile.InFlight)
	default:
		fmt.Fprintf(w, "data: INCONSISTENT, %d break(s):\n", r.Reconcile.Breaks)
		for inv, n := range r.Reconcile.ByInvariant {
			fmt.Fprintf(w, "  %-40s %d\n", inv, n)
		}
	}
}
