package backfill_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	benchWriters = 4
	// benchWriterRate paces each writer (operations per second), as an
	// application's traffic is paced by its users rather than by the database.
	benchWriterRate = 250
)

type loadStats struct {
	ops, errors      int
	p50, p99, max    time.Duration
	maxLockWait      time.Duration
	lockWaits        int
	firstErr         error
	opsPerSec        float64
	latencies        []time.Duration
	lockWaitDuration []time.Duration
}

func (s loadStats) String() string {
	return fmt.Sprintf("%d ops (%.0f/s), %d errors, p50 %.2fms, p99 %.2fms, max %.1fms; %d waits on a backfill lock, longest %.1fms (first error: %v)",
		s.ops, s.opsPerSec, s.errors, ms(s.p50), ms(s.p99), ms(s.max), s.lockWaits, ms(s.maxLockWait), s.firstErr)
}

// runWorkload runs benchWriters goroutines of paced single-row writes on bt (each
// writer owns the ids ≡ w mod benchWriters and inserts its own new ids, so
// writers never wait for each other) while during runs, and returns their
// latencies. Each update first tries its row lock with NOWAIT: when that
// fails the lock is held by the backfill, and the blocking wait that follows
// is measured as a lock wait.
func runWorkload(pool *pgxpool.Pool, n int, firstNewID int64, during func()) loadStats {
	stop := make(chan struct{})
	results := make([]loadStats, benchWriters)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range benchWriters {
		wg.Go(func() { results[w] = writer(pool, w, n, firstNewID, stop) })
	}
	during()
	close(stop)
	wg.Wait()
	var all loadStats
	for _, r := range results {
		all.ops += r.ops
		all.errors += r.errors
		all.lockWaits += r.lockWaits
		all.maxLockWait = max(all.maxLockWait, r.maxLockWait)
		all.latencies = append(all.latencies, r.latencies...)
		if all.firstErr == nil {
			all.firstErr = r.firstErr
		}
	}
	slices.Sort(all.latencies)
	if k := len(all.latencies); k > 0 {
		all.p50, all.p99, all.max = all.latencies[k/2], all.latencies[k*99/100], all.latencies[k-1]
	}
	all.opsPerSec = float64(all.ops) / time.Since(start).Seconds()
	all.latencies = nil
	return all
}

func writer(pool *pgxpool.Pool, w, n int, firstNewID int64, stop <-chan struct{}) loadStats {
	var s loadStats
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	nextID := firstNewID + int64(w)
	interval := time.Second / benchWriterRate
	next := time.Now()
	for {
		next = next.Add(interval)
		select {
		case <-stop:
			return s
		case <-time.After(time.Until(next)):
		}
		t0 := time.Now()
		var err error
		if rng.IntN(4) == 0 {
			_, err = pool.Exec(context.Background(), `INSERT INTO bt (id, a, b, c, d) VALUES ($1, 1, 'new', $2, now())`, nextID, rng.IntN(100000))
			nextID += benchWriters
		} else {
			id := int64(rng.IntN(n/benchWriters))*benchWriters + int64(w) + 1
			err = updateRow(pool, id, &s)
		}
		s.latencies = append(s.latencies, time.Since(t0))
		s.ops++
		if err != nil {
			s.errors++
			if s.firstErr == nil {
				s.firstErr = err
			}
		}
	}
}

// updateRow updates one row as an application would, in a short transaction,
// timing any wait for a row lock held by someone else (the backfill).
func updateRow(pool *pgxpool.Pool, id int64, s *loadStats) error {
	ctx := context.Background()
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SAVEPOINT probe`)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT 1 FROM bt WHERE id = $1 FOR NO KEY UPDATE NOWAIT`, id)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "55P03" {
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT probe`); err != nil {
				return err
			}
			w0 := time.Now()
			if _, err := tx.Exec(ctx, `SELECT 1 FROM bt WHERE id = $1 FOR NO KEY UPDATE`, id); err != nil {
				return err
			}
			s.lockWaits++
			s.maxLockWait = max(s.maxLockWait, time.Since(w0))
		} else if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE bt SET a = a + 1, c = $2 WHERE id = $1`, id, int(id%100000))
		return err
	})
}
