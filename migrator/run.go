package migrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/lock"
	"github.com/tidemark/tidemark/internal/records"
)

// LockKey is the run lock migrate takes on the database (internal/lock).
const LockKey = "migrate"

// StepResult is one file a run executed.
type StepResult struct {
	Version     uint64 `json:"version"`
	Name        string `json:"name"`
	Direction   string `json:"direction"`
	File        string `json:"file"`
	AttemptID   int64  `json:"attempt_id"`
	Statements  int    `json:"statements"`
	ResumedFrom int    `json:"resumed_from,omitempty"`
	DurationMS  int64  `json:"duration_ms"`
	Result      string `json:"result"`
}

// Result is what a run did. Up, Down and Goto return it with their error
// too, holding the steps done before the failure.
type Result struct {
	From       uint64              `json:"from"`
	To         uint64              `json:"to"`
	Steps      []StepResult        `json:"steps"`
	Deployment *records.Deployment `json:"deployment,omitempty"`
}

// Up applies the next n pending migrations (n <= 0: all), in version order.
func (m *Migrator) Up(ctx context.Context, n int) (*Result, error) {
	return m.run(ctx, "up", DirUp, n, 0)
}

// Down reverts the n newest applied migrations (n <= 0: one).
func (m *Migrator) Down(ctx context.Context, n int) (*Result, error) {
	return m.run(ctx, "down", DirDown, n, 0)
}

// Goto migrates up or down to version v (0: revert everything).
func (m *Migrator) Goto(ctx context.Context, v uint64) (*Result, error) {
	return m.run(ctx, fmt.Sprintf("goto %d", v), "goto", 0, v)
}

func (m *Migrator) run(ctx context.Context, what, dir string, n int, target uint64) (*Result, error) {
	held, err := lock.Acquire(ctx, m.url, LockKey, lock.Options{Timeout: m.opts.LockTimeout,
		Holder: lock.Holder{What: "migrate " + what}, Logger: m.log})
	if err != nil {
		return nil, err
	}
	defer held.Release(context.WithoutCancel(ctx)) //nolint:errcheck
	rec, err := m.startRecord(ctx)
	if err != nil {
		return nil, err
	}
	res, err := m.runLocked(ctx, held, dir, n, target)
	if rec != nil {
		d, rerr := rec.finish(ctx, res, err)
		if res != nil {
			res.Deployment = d
		}
		err = errors.Join(err, rerr)
	}
	return res, err
}

func (m *Migrator) runLocked(ctx context.Context, held *lock.Held, dir string, n int, target uint64) (*Result, error) {
	if err := m.eng.interruptStale(ctx); err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	p, err := m.plan(ctx, dir, n, target)
	if err != nil {
		return nil, err
	}
	res := &Result{From: p.Current, To: p.Current, Steps: []StepResult{}}
	if err := m.checkDrift(p); err != nil {
		return res, err
	}
	for _, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("stopped before %s: %w", s.File, err)
		}
		select {
		case <-held.Lost():
			return res, errkind.Temporaryf("stopped before %s: the %q lock lease could not be renewed and another run may hold it now", s.File, LockKey)
		default:
		}
		err := m.runStep(ctx, s, res)
		if v, verr := m.currentVersion(ctx); verr == nil {
			res.To = v
		}
		if err != nil {
			return res, fmt.Errorf("migrate %s %d (%s): %w", s.Direction, s.Version, s.Name, err)
		}
	}
	return res, nil
}

func (m *Migrator) runStep(ctx context.Context, s Step, res *Result) error {
	mig := m.src.find(s.Version)
	sc := mig.Up
	if s.Direction == DirDown {
		sc = mig.Down
	}
	m.log.Info("migrating", "direction", s.Direction, "version", s.Version, "file", s.File,
		"statements", len(s.Statements), "resume_from", s.ResumeFrom, "transactional", s.Transactional)
	a, err := m.eng.apply(ctx, &job{mig: mig, dir: s.Direction, script: sc, resume: s.ResumeFrom, host: m.host})
	if a != nil {
		res.Steps = append(res.Steps, StepResult{Version: a.Version, Name: a.Name, Direction: a.Direction, File: a.File,
			AttemptID: a.ID, Statements: a.StatementsDone, ResumedFrom: a.ResumedFrom, DurationMS: a.DurationMS, Result: a.Result})
	}
	if err == nil {
		m.log.Info("migrated", "direction", s.Direction, "version", s.Version, "file", s.File, "duration_ms", a.DurationMS)
	}
	return err
}

// checkDrift refuses to go up past an applied file edited since (or gone),
// unless AllowDrift.
func (m *Migrator) checkDrift(p *Plan) error {
	if m.opts.AllowDrift {
		return nil
	}
	for _, d := range p.Drift {
		for _, s := range p.Steps {
			if s.Direction != DirUp || s.Version < d.Version {
				continue
			}
			if d.Problem == "missing" {
				return errkind.Preconditionf("%w: version %d (%s) is applied but its file is gone from %s: restore it, or pass --allow-drift",
					ErrDrift, d.Version, d.Name, m.src.Dir)
			}
			return errkind.Preconditionf("%w: %s was edited after it was applied (checksum %.12s, now %.12s): restore the file and put the change in a new migration, or pass --allow-drift",
				ErrDrift, d.File, d.Applied, d.Current)
		}
	}
	return nil
}

func (m *Migrator) currentVersion(ctx context.Context) (uint64, error) {
	applied, err := m.eng.applied(context.WithoutCancel(ctx))
	if err != nil || len(applied) == 0 {
		return 0, err
	}
	return applied[len(applied)-1].Version, nil
}
