package migrator

import (
	"context"
	"errors"
	"fmt"

	"github.com/tidemark/tidemark/internal/lock"
)

// Drift is an applied migration whose up file changed or disappeared since.
type Drift struct {
	Version uint64 `json:"version"`
	Name    string `json:"name"`
	File    string `json:"file,omitempty"`
	// Applied is the checksum recorded when applied; Current the file's
	// checksum now ("" when the file is missing).
	Applied string `json:"applied_checksum"`
	Current string `json:"current_checksum,omitempty"`
	Problem string `json:"problem"` // "edited" or "missing"
}

// Pending is a migration not applied yet.
type Pending struct {
	Version uint64 `json:"version"`
	Name    string `json:"name"`
	File    string `json:"file"`
}

// Status is the state of a database's migrations.
type Status struct {
	Current uint64    `json:"current"`
	Applied []Applied `json:"applied"`
	Pending []Pending `json:"pending"`
	Drift   []Drift   `json:"drift"`
	// Unfinished lists versions whose last attempt failed or was interrupted,
	// with the statement that failed.
	Unfinished []Attempt `json:"unfinished"`
	// RunInProgress names the holder of the migrate lock when a run is in
	// progress (attempts shown as running really are).
	RunInProgress *lock.Holder `json:"run_in_progress,omitempty"`
	// History is every attempt, oldest first, with times, durations and checksums.
	History []Attempt `json:"history"`
}

// Status reads applied versions and history and compares them with the files.
func (m *Migrator) Status(ctx context.Context) (*Status, error) {
	applied, err := m.eng.applied(ctx)
	if err != nil {
		return nil, fmt.Errorf("read applied versions: %w", err)
	}
	hist, err := m.eng.history(ctx)
	if err != nil {
		return nil, fmt.Errorf("read history: %w", err)
	}
	st := &Status{Applied: applied, History: hist, Drift: m.drift(applied), Pending: []Pending{}, Unfinished: []Attempt{}}
	done := map[uint64]bool{}
	for _, a := range applied {
		done[a.Version] = true
		st.Current = a.Version
	}
	for _, mig := range m.src.Migrations {
		if !done[mig.Version] {
			st.Pending = append(st.Pending, Pending{Version: mig.Version, Name: mig.Name, File: mig.Up.File})
		}
	}
	st.Unfinished = unfinished(hist)
	m.probeRunning(ctx, st)
	if st.Applied == nil {
		st.Applied = []Applied{}
	}
	if st.History == nil {
		st.History = []Attempt{}
	}
	return st, nil
}

// unfinished returns, per (version, direction), the last attempt if it did
// not succeed.
func unfinished(hist []Attempt) []Attempt {
	type key struct {
		v uint64
		d string
	}
	last := map[key]int{}
	var order []key
	for i, a := range hist {
		k := key{a.Version, a.Direction}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = i
	}
	out := []Attempt{}
	for _, k := range order {
		if a := hist[last[k]]; a.Result != ResultSucceeded {
			out = append(out, a)
		}
	}
	return out
}

// drift compares applied checksums with the files.
func (m *Migrator) drift(applied []Applied) []Drift {
	out := []Drift{}
	for _, a := range applied {
		mig := m.src.find(a.Version)
		switch {
		case mig == nil:
			out = append(out, Drift{Version: a.Version, Name: a.Name, Applied: a.Checksum, Problem: "missing"})
		case mig.Up.Checksum != a.Checksum:
			out = append(out, Drift{Version: a.Version, Name: a.Name, File: mig.Up.File, Applied: a.Checksum,
				Current: mig.Up.Checksum, Problem: "edited"})
		}
	}
	return out
}

// probeRunning tells attempts still running from those whose run died: if
// nobody holds the migrate lock, a "running" attempt was interrupted.
func (m *Migrator) probeRunning(ctx context.Context, st *Status) {
	running := false
	for _, u := range st.Unfinished {
		running = running || u.Result == ResultRunning
	}
	if !running {
		return
	}
	held, err := lock.Acquire(ctx, m.url, LockKey, lock.Options{Holder: lock.Holder{What: "migrate status"}})
	var he *lock.HeldError
	switch {
	case err == nil:
		_ = held.Release(ctx)
		for _, list := range [][]Attempt{st.Unfinished, st.History} {
			for i := range list {
				if list[i].Result == ResultRunning {
					list[i].Result = ResultInterrupted
				}
			}
		}
	case errors.As(err, &he):
		st.RunInProgress = &he.Holder
	}
}
