package migrator

import (
	"context"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Step is one file a run would execute.
type Step struct {
	Version       uint64      `json:"version"`
	Name          string      `json:"name"`
	Direction     string      `json:"direction"`
	File          string      `json:"file"`
	Transactional bool        `json:"transactional"`
	Statements    []Statement `json:"statements"`
	// ResumeFrom is the number of statements an earlier, failed attempt of
	// this non-transactional file already applied; the run starts after them.
	ResumeFrom int `json:"resume_from,omitempty"`
}

// Plan is what a run would do, in order.
type Plan struct {
	Current uint64  `json:"current"`
	Target  uint64  `json:"target"`
	Steps   []Step  `json:"steps"`
	Drift   []Drift `json:"drift,omitempty"`
}

// Plan returns what Up(ctx, n) would run (n <= 0: all pending), with the
// statements of each file. It takes no lock and changes nothing.
func (m *Migrator) Plan(ctx context.Context, n int) (*Plan, error) {
	return m.plan(ctx, DirUp, n, 0)
}

// plan computes the steps of a run: up n (all if n <= 0), down n, or goto v
// (dir "goto").
func (m *Migrator) plan(ctx context.Context, dir string, n int, target uint64) (*Plan, error) {
	applied, err := m.eng.applied(ctx)
	if err != nil {
		return nil, fmt.Errorf("read applied versions: %w", err)
	}
	p := &Plan{Drift: m.drift(applied)}
	done := map[uint64]bool{}
	for _, a := range applied {
		done[a.Version] = true
		p.Current = a.Version
	}
	var steps []Step
	switch dir {
	case DirUp:
		steps = m.upSteps(done, ^uint64(0), n)
	case DirDown:
		if n <= 0 {
			n = 1
		}
		steps, err = m.downSteps(applied, 0, n)
	default:
		if target != 0 && m.src.find(target) == nil {
			return nil, errkind.Usagef("%w: goto %d: no migration file has version %d", ErrUnknownVersion, target, target)
		}
		steps, err = m.downSteps(applied, target, 0)
		steps = append(steps, m.upSteps(done, target, 0)...)
	}
	if err != nil {
		return nil, err
	}
	if err := m.resumePoints(ctx, steps); err != nil {
		return nil, err
	}
	p.Steps, p.Target = steps, targetOf(applied, steps)
	return p, nil
}

// upSteps returns the pending migrations up to version max, at most n (n <= 0: all).
func (m *Migrator) upSteps(done map[uint64]bool, max uint64, n int) []Step {
	var out []Step
	for _, mig := range m.src.Migrations {
		if done[mig.Version] || mig.Version > max || (n > 0 && len(out) == n) {
			continue
		}
		out = append(out, step(mig, DirUp, mig.Up))
	}
	return out
}

// downSteps returns the applied migrations above version floor, newest
// first, at most n (n <= 0: all); each needs its down file.
func (m *Migrator) downSteps(applied []Applied, floor uint64, n int) ([]Step, error) {
	var out []Step
	for i := len(applied) - 1; i >= 0 && (n <= 0 || len(out) < n); i-- {
		a := applied[i]
		if a.Version <= floor {
			break
		}
		mig := m.src.find(a.Version)
		if mig == nil {
			return nil, errkind.Usagef("%w: version %d (%s) is applied but its files are not in %s", ErrMissingDown, a.Version, a.Name, m.src.Dir)
		}
		if mig.Down == nil {
			return nil, errkind.Usagef("%w: version %d (%s) has no down file %s in %s", ErrMissingDown, a.Version, a.Name,
				downName(mig), m.src.Dir)
		}
		out = append(out, step(mig, DirDown, mig.Down))
	}
	return out, nil
}

func downName(mig *Migration) string {
	f := mig.Up.File
	if i := len(f) - len(".up.sql"); i > 0 && f[i:] == ".up.sql" {
		return f[:i] + ".down.sql"
	}
	if i := len(f) - len(".up.json"); i > 0 && f[i:] == ".up.json" {
		return f[:i] + ".down.json"
	}
	return f
}

func step(mig *Migration, dir string, sc *Script) Step {
	return Step{Version: mig.Version, Name: mig.Name, Direction: dir, File: sc.File, Transactional: sc.Transactional, Statements: sc.Statements}
}

// targetOf is the version the database will be at after steps.
func targetOf(applied []Applied, steps []Step) uint64 {
	done := map[uint64]bool{}
	for _, a := range applied {
		done[a.Version] = true
	}
	for _, s := range steps {
		done[s.Version] = s.Direction == DirUp
	}
	var t uint64
	for v, ok := range done {
		if ok && v > t {
			t = v
		}
	}
	return t
}
