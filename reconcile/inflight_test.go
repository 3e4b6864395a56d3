package reconcile

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// Writes made during the run (after the snapshot, within the grace period)
// end as in flight, not breaks: fixed rows and rows changed to other values.
func TestConcurrentWritesEndInFlight(t *testing.T) {
	w := newWorld(t, 40)
	rules := w.writeRules(t)
	pc := connect(t, w.payments)
	var once sync.Once
	hook := func(string, int) error {
		once.Do(func() {
			mustExec(t, pc, `UPDATE payments SET amount = amount - 0.01 WHERE order_id = $1`, uuidN("00000000", 1))
			mustExec(t, pc, `INSERT INTO payments SELECT $1, id, 'CAPTURED', total_cents / 100.0, paid_at AT TIME ZONE 'UTC'
				FROM (SELECT $2::uuid AS id, 0::bigint AS total_cents, now() AS paid_at) AS x`, uuidN("33333333", 2), uuidN("00000000", 2))
			mustExec(t, pc, `UPDATE invoice_lines SET quantity = 7 WHERE order_id = $1 AND line_no = 2`, uuidN("00000000", 8))
		})
		return nil
	}
	rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 3, Grace: time.Second, AfterRange: hook, NoState: true})
	if err != nil {
		t.Fatal(err)
	}
	changed := []string{
		"order_amounts/mismatch/" + uuidN("00000000", 1),
		"order_amounts/missing_right/" + uuidN("00000000", 2),
		"paid_orders_captured/missing/" + uuidN("00000000", 2),
		"invoice_lines/mismatch/(" + uuidN("00000000", 8) + ", 2)",
	}
	var want []string
	for _, e := range expected {
		if !slices.Contains(changed, e) {
			want = append(want, e)
		}
	}
	var inflight []string
	for _, b := range rep.InFlight {
		inflight = append(inflight, b.Invariant+"/"+b.Kind+"/"+b.Key)
	}
	got := findingSet(rep)
	slices.Sort(got)
	slices.Sort(want)
	slices.Sort(inflight)
	slices.Sort(changed)
	if !slices.Equal(got, want) {
		t.Errorf("breaks\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(inflight, changed) {
		t.Errorf("in flight\n got %q\nwant %q", inflight, changed)
	}
}

// A killed run resumes from its checkpoints: the ranges already compared
// are not read again, and the findings are the same.
func TestKilledRunResumes(t *testing.T) {
	w := newWorld(t, 40)
	rules := w.writeRules(t)
	stop := errors.New("killed")
	n := 0
	_, err := Check(context.Background(), rules, CheckOptions{Workers: 1, Ranges: 4, AfterRange: func(string, int) error {
		if n++; n == 6 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) {
		t.Fatalf("first run: %v", err)
	}
	rep, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 4})
	if err != nil {
		t.Fatal(err)
	}
	resumed := 0
	for _, c := range rep.Counts {
		resumed += c.RangesResumed
	}
	if !rep.Resumed || resumed != 6 {
		t.Errorf("resumed %v, %d ranges; want 6", rep.Resumed, resumed)
	}
	got, want := findingSet(rep), slices.Clone(expected)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("findings after resume\n got %q\nwant %q", got, want)
	}
	again, err := Check(context.Background(), rules, CheckOptions{Workers: 2, Ranges: 4})
	if err != nil {
		t.Fatal(err)
	}
	if again.Resumed {
		t.Error("a finished run was resumed")
	}
}
