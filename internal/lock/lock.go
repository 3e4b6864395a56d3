package lock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Holder says who holds a lock.
type Holder struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
	What  string    `json:"what,omitempty"` // e.g. "migrate up"
}

// Options tune [Acquire].
type Options struct {
	// Timeout is how long to wait for a busy lock; 0 tries once.
	Timeout time.Duration
	// Holder describes this run; Host and PID default to this process,
	// What to the key. Since is set by Acquire.
	Holder Holder
	// Lease is the expiry of CockroachDB and MongoDB leases (default 30s);
	// a held lease is renewed every Lease/3.
	Lease time.Duration
	// Logger receives "waiting for lock" messages (default: discard).
	Logger *slog.Logger
}

func (o *Options) defaults(key string) {
	if o.Holder.Host == "" {
		o.Holder.Host, _ = os.Hostname()
	}
	if o.Holder.PID == 0 {
		o.Holder.PID = os.Getpid()
	}
	if o.Holder.What == "" {
		o.Holder.What = key
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// backend is one engine's lock mechanism.
type backend interface {
	// try takes the lock once; when busy it returns false and the holder.
	try(ctx context.Context) (bool, Holder, error)
	// renew extends a lease (no-op for session locks); an error means lost.
	renew(ctx context.Context) error
	release(ctx context.Context) error
	close(ctx context.Context)
}

// Held is a lock this run holds. Call Release when done.
type Held struct {
	Key    string
	Holder Holder

	b      backend
	stop   chan struct{}
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
	relErr error
}

// Acquire takes the lock named key on target, waiting up to opts.Timeout.
// On timeout it returns a [*HeldError] (exit 75) naming the holder.
func Acquire(ctx context.Context, target *dburl.URL, key string, opts Options) (*Held, error) {
	opts.defaults(key)
	b, err := open(ctx, target, key, opts)
	if err != nil {
		return nil, dburl.RedactError(fmt.Errorf("lock %q: %w", key, err))
	}
	h, err := wait(ctx, b, key, opts)
	if err != nil {
		b.close(context.WithoutCancel(ctx))
		return nil, err
	}
	return h, nil
}

func open(ctx context.Context, target *dburl.URL, key string, opts Options) (backend, error) {
	switch target.Engine {
	case dburl.Postgres:
		return openPostgres(ctx, target, key, opts)
	case dburl.Cockroach:
		return openLease(ctx, target, key, opts)
	case dburl.Mongo:
		return openMongo(ctx, target, key, opts)
	}
	return nil, fmt.Errorf("unsupported engine %q", target.Engine)
}

func wait(ctx context.Context, b backend, key string, opts Options) (*Held, error) {
	start := time.Now()
	delay := 50 * time.Millisecond
	logged := false
	for {
		ok, holder, err := b.try(ctx)
		if err != nil {
			return nil, dburl.RedactError(fmt.Errorf("lock %q: %w", key, err))
		}
		if ok {
			return newHeld(key, holder, b, opts.Lease), nil
		}
		waited := time.Since(start)
		if waited >= opts.Timeout {
			return nil, &HeldError{Key: key, Holder: holder, Waited: waited}
		}
		if !logged {
			opts.Logger.Info("waiting for lock", "key", key, "holder_host", holder.Host, "holder_pid", holder.PID, "since", holder.Since, "timeout", opts.Timeout)
			logged = true
		}
		sleep := min(delay, opts.Timeout-waited)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("lock %q: %w", key, ctx.Err())
		case <-time.After(sleep):
		}
		delay = min(delay*2, time.Second)
	}
}

func newHeld(key string, holder Holder, b backend, lease time.Duration) *Held {
	h := &Held{Key: key, Holder: holder, b: b, stop: make(chan struct{}), done: make(chan struct{}), lost: make(chan struct{})}
	go h.renewLoop(lease / 3)
	return h
}

func (h *Held) renewLoop(every time.Duration) {
	defer close(h.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			err := h.b.renew(ctx)
			cancel()
			if err != nil {
				close(h.lost)
				return
			}
		}
	}
}

// Lost is closed if a lease could not be renewed (another run may take the
// lock over); long operations should check it between steps.
func (h *Held) Lost() <-chan struct{} { return h.lost }

// Release gives the lock up. It is safe to call more than once.
func (h *Held) Release(ctx context.Context) error {
	h.once.Do(func() {
		close(h.stop)
		<-h.done
		err := h.b.release(ctx)
		h.b.close(ctx)
		if err != nil {
			h.relErr = dburl.RedactError(fmt.Errorf("release lock %q: %w", h.Key, err))
		}
	})
	return h.relErr
}

var errLost = errors.New("lease lost: another run took the lock over")
