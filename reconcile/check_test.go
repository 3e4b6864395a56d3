package reconcile

import (
	"context"
	"slices"
	"testing"
)

func TestCheckFindsExactlyTheInjectedBreaks(t *testing.T) {
	w := newWorld(t, 60)
	rules := w.writeRules(t)
	for _, workers := range []int{1, 3} {
		rep, err := Check(context.Background(), rules, CheckOptions{Workers: workers, Ranges: 5, NoState: workers == 1})
		if err != nil {
			t.Fatal(err)
		}
		got := findingSet(rep)
		want := slices.Clone(expected)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("workers %d: findings\n got %q\nwant %q", workers, got, want)
		}
		if len(rep.InFlight) != 0 {
			for _, b := range rep.InFlight {
				t.Errorf("in flight: %s %s %s: %s", b.Invariant, b.Kind, b.Key, b.Reason)
			}
		}
		for _, c := range rep.Counts {
			if c.Invariant == "invoice_lines" && (c.RangesSkipped == 0 || c.RangesSkipped == c.Ranges) {
				t.Errorf("invoice_lines: %d of %d ranges equal by checksum, want some but not all", c.RangesSkipped, c.Ranges)
			}
			t.Logf("%s: %d ranges, %d equal by checksum", c.Invariant, c.Ranges, c.RangesSkipped)
		}
		if !rep.Broken() || rep.Err() == nil {
			t.Error("report not broken")
		}
	}
}
