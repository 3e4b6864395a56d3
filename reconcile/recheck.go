package reconcile

import (
	"context"
	"fmt"
	"time"
)

// recheckAll waits for the grace period, then reads every suspect's rows
// again: a suspect still broken with the same row versions is a break; one
// whose rows changed (or that is no longer broken) is in flight.
func (c *checker) recheckAll(ctx context.Context) error {
	if len(c.sus) == 0 {
		return nil
	}
	c.opts.Logger.Info("re-checking suspects after the grace period", "suspects", len(c.sus), "grace", c.opts.Grace)
	select {
	case <-time.After(c.opts.Grace):
	case <-ctx.Done():
		return ctx.Err()
	}
	dbs, err := openDatabases(ctx, c.rules, c.opts.Workers)
	if err != nil {
		return err
	}
	defer closeAll(context.WithoutCancel(ctx), dbs)
	readers := map[string]reader{}
	for _, s := range c.rules.Sources {
		readers[s.Name] = dbs[s.Database].Reader(s)
	}
	byName := map[string]*Invariant{}
	for _, inv := range c.rules.Invariants {
		byName[inv.Name] = inv
	}
	results, err := c.recheckEach(ctx, byName, readers)
	if err != nil {
		return err
	}
	for i, s := range c.sus {
		inv, r := byName[s.Invariant], results[i]
		if inv == nil {
			continue
		}
		counts := c.counts(inv)
		if r.broken {
			c.report.Breaks = append(c.report.Breaks, r.b)
			counts.Breaks[r.b.Kind]++
			counts.BreaksTotal++
		} else {
			c.report.InFlight = append(c.report.InFlight, r.b)
			counts.InFlight++
		}
	}
	return nil
}

type recheckResult struct {
	b      *Break
	broken bool
}

// recheckEach re-checks the suspects with the run's worker count.
func (c *checker) recheckEach(ctx context.Context, byName map[string]*Invariant, readers map[string]reader) ([]recheckResult, error) {
	results := make([]recheckResult, len(c.sus))
	var todo []int
	for i, s := range c.sus {
		if byName[s.Invariant] != nil {
			todo = append(todo, i)
		}
	}
	err := inWorkers(ctx, c.opts.Workers, todo, func(ctx context.Context, i int) error {
		s := c.sus[i]
		inv := byName[s.Invariant]
		b, broken, err := recheck(ctx, inv, readers, s)
		if err != nil {
			return fmt.Errorf("re-check %s %s: %w", inv.Name, keyString(s.Key), err)
		}
		results[i] = recheckResult{b, broken}
		return nil
	})
	return results, err
}

// recheck evaluates one suspect's key on the current data.
func recheck(ctx context.Context, inv *Invariant, readers map[string]reader, s suspect) (*Break, bool, error) {
	f, err := evalNow(ctx, inv, readers, s.Key)
	if err != nil {
		return nil, false, err
	}
	if f == nil {
		b := makeBreak(inv, s.Kind, s.Key, nil)
		b.Reason = "resolved during the grace period (rows changed)"
		b.LeftVersion, b.RightVersion = s.Left, s.Right
		return b, false, nil
	}
	b := makeBreak(inv, f.kind, s.Key, f)
	if f.kind == s.Kind && b.LeftVersion == s.Left && b.RightVersion == s.Right {
		return b, true, nil
	}
	if f.kind != s.Kind {
		b.Reason = "rows changed during the grace period (now " + f.kind + ")"
		b.Kind = s.Kind
	} else {
		b.Reason = "rows changed during the grace period"
	}
	return b, false, nil
}

// evalNow reads both sides of one key now and evaluates it.
func evalNow(ctx context.Context, inv *Invariant, readers map[string]reader, key []any) (*finding, error) {
	l, err := lookupGroup(ctx, readers[inv.Left.Source.Name], &inv.Left, key, false)
	if err != nil {
		return nil, err
	}
	r, err := lookupGroup(ctx, readers[inv.Right.Source.Name], &inv.Right, key, inv.Kind == KindAggregate)
	if err != nil {
		return nil, err
	}
	return evalKey(inv, l, r), nil
}

func lookupGroup(ctx context.Context, rd reader, side *Side, key []any, agg bool) (*group, error) {
	rows, err := rd.Lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	g := &grouper{s: &sliceStream{rows: rows}, side: side, agg: agg}
	return g.next(ctx)
}
