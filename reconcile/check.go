package reconcile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
)

// CheckOptions tune Check.
type CheckOptions struct {
	// Grace is how long a suspect waits before its re-check (the CLI
	// default is 30s; 0 re-checks at once).
	Grace time.Duration
	// Workers is how many key ranges are compared at once (default 4).
	Workers int
	// Ranges is how many key ranges each invariant is cut into (default
	// 8 per worker, or one per 500 rows, in groups of 20, when ranges are
	// checksummed; 1 when the left source gives no cuts: a MongoDB key
	// column holding more than one type, an empty collection).
	Ranges int
	// Checksums compares key-range checksums first when at least one side
	// is PostgreSQL (computed in its database; the other side's in Go if
	// it cannot in SQL), streaming only ranges that differ.
	// Default on; set NoChecksums to stream everything.
	NoChecksums bool
	// StateURL is the PostgreSQL database that keeps runs and checkpoints
	// (default: the first PostgreSQL source's database; none: no resume).
	StateURL string
	// NoState disables runs and checkpoints.
	NoState bool
	// Logger receives progress (default: discard).
	Logger *slog.Logger
	// AfterRange, when set, is called after each range is checkpointed; an
	// error stops the run (as a crash would; tests use it).
	AfterRange func(invariant string, rangeNo int) error
}

func (o *CheckOptions) defaults() {
	if o.Workers < 1 {
		o.Workers = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// checksumRangeRows is the default range size when ranges are checksummed:
// small enough that a few differences leave most ranges equal.
const checksumRangeRows = 500

// checker holds one Check run.
type checker struct {
	rules   *Rules
	opts    CheckOptions
	dbs     map[string]database
	readers map[string]reader
	state   *runState
	report  *Report
	mu      sync.Mutex
	sus     []suspect
	// whole-range checksums checked, found different, skipped (wholeWorth)
	wholes, wholesDiffer, wholeSkips atomic.Int64
}

// Check evaluates every invariant of rules and returns the report. Breaks
// are not an error: use Report.Broken or Report.Err.
func Check(ctx context.Context, rules *Rules, opts CheckOptions) (*Report, error) {
	opts.defaults()
	c := &checker{rules: rules, opts: opts, readers: map[string]reader{}, report: &Report{
		Rules: rules.File, RulesHash: rules.Hash, StartedAt: time.Now().UTC(), Grace: opts.Grace.Seconds(),
		Snapshots: map[string]string{}, Breaks: []*Break{}, InFlight: []*Break{},
	}}
	var err error
	if c.state, err = openState(ctx, rules, opts); err != nil {
		return nil, err
	}
	defer c.state.close()
	if c.state != nil {
		c.report.RunID, c.report.Resumed = c.state.runID, c.state.resumed
	}
	if c.dbs, err = openDatabases(ctx, rules, 2*opts.Workers); err != nil {
		return nil, err
	}
	defer closeAll(context.WithoutCancel(ctx), c.dbs)
	for _, s := range rules.Sources {
		c.readers[s.Name] = c.dbs[s.Database].Reader(s)
		c.report.Snapshots[s.Name] = c.dbs[s.Database].Snapshot()
	}
	for _, inv := range rules.Invariants {
		if err := c.checkInvariant(ctx, inv); err != nil {
			return nil, fmt.Errorf("invariant %s: %w", inv.Name, dburl.RedactError(err))
		}
	}
	closeAll(ctx, c.dbs) // release snapshots before the grace period
	if err := c.recheckAll(ctx); err != nil {
		return nil, err
	}
	c.report.FinishedAt = time.Now().UTC()
	c.report.Duration = c.report.FinishedAt.Sub(c.report.StartedAt).Seconds()
	if err := c.state.finish(ctx, c.report); err != nil {
		return nil, err
	}
	return c.report, nil
}

func (c *checker) counts(inv *Invariant) *Counts {
	for _, k := range c.report.Counts {
		if k.Invariant == inv.Name {
			return k
		}
	}
	k := &Counts{Invariant: inv.Name, Kind: inv.Kind, Breaks: map[string]int{}}
	c.report.Counts = append(c.report.Counts, k)
	return k
}

// checkInvariant compares inv over its key ranges with a bounded pool of workers.
func (c *checker) checkInvariant(ctx context.Context, inv *Invariant) error {
	lr, rr := c.readers[inv.Left.Source.Name], c.readers[inv.Right.Source.Name]
	sides, err := c.sidesHashedInSQL(ctx, inv, lr, rr)
	if err != nil {
		return err
	}
	ranges, err := c.ranges(ctx, inv, lr, sides.any())
	if err != nil {
		return err
	}
	counts := c.counts(inv)
	counts.Checksums = sides.String()
	c.wholes.Store(0)
	c.wholesDiffer.Store(0)
	for _, r := range ranges {
		counts.Ranges += max(1, len(r.Subs))
	}
	done, err := c.state.doneRanges(ctx, inv.Name)
	if err != nil {
		return err
	}
	for _, res := range done {
		c.add(counts, res)
		counts.RangesResumed++
	}
	c.opts.Logger.Info("checking invariant", "invariant", inv.Name, "kind", inv.Kind, "ranges", len(ranges), "resumed", len(done))
	var todo []int
	for i := range ranges {
		if _, ok := done[i]; !ok {
			todo = append(todo, i)
		}
	}
	return inWorkers(ctx, c.opts.Workers, todo, func(ctx context.Context, i int) error {
		return c.checkRange(ctx, inv, lr, rr, sides, i, ranges[i], counts)
	})
}

func (c *checker) checkRange(ctx context.Context, inv *Invariant, lr, rr reader, sides hashSides, i int, rng Range, counts *Counts) error {
	res, skipped, err := c.compareRange(ctx, inv, lr, rr, sides, rng)
	if err != nil {
		return err
	}
	if err := c.state.saveRange(ctx, inv.Name, i, res); err != nil {
		return err
	}
	c.mu.Lock()
	c.add(counts, res)
	counts.RangesSkipped += skipped
	c.mu.Unlock()
	if c.opts.AfterRange != nil {
		return c.opts.AfterRange(inv.Name, i)
	}
	return nil
}

// compareRange uses checksums when it can: a range whose checksums are
// equal is done without streaming its rows; one that differs is checked
// again sub-range by sub-range, and only differing sub-ranges are
// streamed. When most ranges differ (many differences), the whole-range
// checksum is skipped and the sub-ranges are checked at once (see
// wholeWorth). A side that cannot hash in SQL hashes in Go
// (compareHalfGo). skipped counts the (sub-)ranges found equal.
func (c *checker) compareRange(ctx context.Context, inv *Invariant, lr, rr reader, sides hashSides, rng Range) (*rangeResult, int, error) {
	switch {
	case !sides.any():
		res, err := mergeRange(ctx, inv, lr, rr, rng)
		return res, 0, err
	case !sides.both():
		return c.compareHalfGo(ctx, inv, lr, rr, sides[0], rng)
	}
	if len(rng.Subs) == 0 || c.wholeWorth() { // about half the cost of the sub-ranges' checksums
		res, equal, err := checksumRange(ctx, inv, lr, rr, rng)
		if err != nil || equal {
			c.wholeSeen(true)
			return res, max(1, len(rng.Subs)), err
		}
		c.wholeSeen(false)
		if len(rng.Subs) == 0 {
			res, err := mergeRange(ctx, inv, lr, rr, rng)
			return res, 0, err
		}
	}
	var sums [2][]rangeSum
	err := bothSides(lr.(*sqlReader), rr.(*sqlReader), func(r *sqlReader, i int) error {
		var err error
		sums[i], err = r.subSums(ctx, inv, i == 0, rng)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	res := &rangeResult{LeftRows: sumCounts(sums[0]), RightRows: sumCounts(sums[1])}
	return mergeDiffering(ctx, inv, lr, rr, rng, sums[0], sums[1], res)
}

// wholeWorth tells whether a whole range's checksum is worth computing
// before its sub-ranges': not while more than a third of the ranges checked
// so far differed (their sub-ranges would be hashed again), except every
// eighth range, so the estimate follows the data.
func (c *checker) wholeWorth() bool {
	n, d := c.wholes.Load(), c.wholesDiffer.Load()
	return n < 4 || 3*d <= n || c.wholeSkips.Add(1)%8 == 0
}

func (c *checker) wholeSeen(equal bool) {
	c.wholes.Add(1)
	if !equal {
		c.wholesDiffer.Add(1)
	}
}

// checksumFanout is how many checksum sub-ranges one range holds;
// bucketFanout how many when they are bucketed (one query per range).
const (
	checksumFanout = 20
	bucketFanout   = 100
)

// groupRanges makes ranges of up to fanout consecutive sub-ranges.
func groupRanges(fine []Range, fanout int) []Range {
	var out []Range
	for i := 0; i < len(fine); i += fanout {
		g := fine[i:min(i+fanout, len(fine))]
		out = append(out, Range{Lo: g[0].Lo, LoKey: g[0].LoKey, Hi: g[len(g)-1].Hi, HiKey: g[len(g)-1].HiKey, Subs: g})
	}
	return out
}

func (c *checker) add(counts *Counts, res *rangeResult) {
	counts.LeftRows += res.LeftRows
	counts.RightRows += res.RightRows
	c.sus = append(c.sus, res.Suspects...)
}

// ranges cuts inv's key space at the left source's key quantiles (stored
// in the run, so a resumed run uses the same ranges).
func (c *checker) ranges(ctx context.Context, inv *Invariant, lr reader, checksums bool) ([]Range, error) {
	n, perRange := c.opts.Ranges, int64(0)
	if n == 0 {
		n = 8 * c.opts.Workers
		if checksums {
			perRange = checksumRangeRows
		}
	}
	if n <= 1 && perRange == 0 {
		return []Range{{}}, nil
	}
	cuts, err := c.state.cuts(ctx, inv.Name, func() ([][]any, error) {
		q, _, err := lr.Quantiles(ctx, n, perRange)
		return q, err
	})
	if err != nil {
		return nil, err
	}
	fine, err := rangesFromCuts(inv.Left.Source.Key, cuts)
	if err != nil || perRange == 0 {
		return fine, err
	}
	out := groupRanges(fine, checksumFanout)
	for i, r := range out {
		if subs, step, ok := splitRange(inv.Left.Source.Key, r, bucketFanout); ok && sameKeyTypes(inv) {
			out[i].Subs, out[i].step = subs, step
		}
	}
	return out, nil
}

// sameKeyTypes tells whether both sides have the same key column types.
func sameKeyTypes(inv *Invariant) bool {
	l, r := inv.Left.Source.Key, inv.Right.Source.Key
	if len(l) != len(r) {
		return false
	}
	for i := range l {
		if l[i].Type != r[i].Type {
			return false
		}
	}
	return true
}

func rangesFromCuts(key []KeyColumn, cuts [][]any) ([]Range, error) {
	out := make([]Range, 0, len(cuts)+1)
	var lo []any
	var loKey Key
	for _, cut := range cuts {
		k, err := encodeKey(nil, key, cut)
		if err != nil {
			return nil, err
		}
		cut = canonicalKey(key, cut) // as read back from a checkpoint: json numbers
		if loKey != nil && k.Compare(loKey) <= 0 {
			continue // duplicate cut (non-unique keys)
		}
		out = append(out, Range{Lo: lo, LoKey: loKey, Hi: cut, HiKey: k})
		lo, loKey = cut, k
	}
	return append(out, Range{Lo: lo, LoKey: loKey}), nil
}
