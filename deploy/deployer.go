package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/tidemark/tidemark/internal/lock"
	"github.com/tidemark/tidemark/internal/records"
)

// Deployer runs the deploy verbs. Control is the control database holding
// the fleet records (PostgreSQL or CockroachDB; *pgxpool.Pool qualifies).
type Deployer struct {
	Control records.DB
	Engines Engines
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Events, when set, receives each step as it ends (metrics, progress).
	Events func(Event)
	// LockTimeout is how long to wait for a service's deploy lock.
	LockTimeout time.Duration
}

// Event is one step of a verb, reported as it ends.
type Event struct {
	Service string
	Verb    string // start, finish, rollback
	Step    Step
	At      time.Time
	// Expand and Reconcile carry the step's engine result when it has one.
	Expand    *ExpandInfo
	Reconcile *ReconcileInfo
}

func (d *Deployer) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// open returns the records store and the step journal on the control database.
func (d *Deployer) open(ctx context.Context) (*records.Store, *journal, error) {
	if d.Control == nil {
		return nil, nil, fmt.Errorf("no control database")
	}
	st, err := records.Open(ctx, d.Control)
	if err != nil {
		return nil, nil, err
	}
	j, err := openJournal(ctx, d.Control)
	return st, j, err
}

// begin takes the service's deploy lock for verb (on the service's own
// database) and opens the records store and step journal on the control
// database. Call release when the verb is done, whatever its outcome.
func (d *Deployer) begin(ctx context.Context, s Service, verb string) (release func(), st *records.Store, j *journal, err error) {
	h, err := lock.Acquire(ctx, s.target(), "deploy:"+s.Name, lock.Options{Timeout: d.LockTimeout, Holder: lock.Holder{What: "deploy " + verb + " " + s.Name}})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("deploy lock: %w", err)
	}
	release = func() { _ = h.Release(context.WithoutCancel(ctx)) }
	if st, j, err = d.open(ctx); err != nil {
		release()
		return nil, nil, nil, err
	}
	return release, st, j, nil
}

// runner runs the steps of one verb, timing and reporting each.
type runner struct {
	d       *Deployer
	service string
	verb    string
	steps   []Step
}

// run runs fn as a step; fn returns a detail line, or skip=true.
func (r *runner) run(name string, fn func() (detail string, skip bool, err error)) error {
	t0 := time.Now()
	detail, skip, err := fn()
	s := Step{Name: name, Status: StepDone, Detail: detail, Duration: time.Since(t0)}
	switch {
	case err != nil:
		s.Status, s.Detail = StepFailed, err.Error()
	case skip:
		s.Status = StepSkipped
	}
	r.steps = append(r.steps, s)
	r.emit(Event{Step: s})
	r.d.log().Info(r.verb+" "+name, "service", r.service, "status", s.Status, "detail", s.Detail, "duration", s.Duration.Round(time.Millisecond))
	return err
}

func (r *runner) emit(e Event) {
	if r.d.Events == nil {
		return
	}
	e.Service, e.Verb, e.At = r.service, r.verb, time.Now()
	r.d.Events(e)
}
