package reconcile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
)

// consumeRefunds plays the payments service: every refund_payment event
// (outbox or file) refunds the order's captured payment.
func (w *world) consumeRefunds(t *testing.T) int {
	t.Helper()
	var orders []string
	oc, pc := connect(t, w.orders), connect(t, w.payments)
	rows, err := oc.Query(context.Background(), `SELECT payload->>'order_id' FROM outbox WHERE event_type = 'refund_payment'`)
	if err == nil {
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			orders = append(orders, id)
		}
		rows.Close()
	}
	if f, err := os.Open(filepath.Join(w.dir, "events.jsonl")); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e struct {
				Payload struct {
					OrderID string `json:"order_id"`
				} `json:"payload"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			orders = append(orders, e.Payload.OrderID)
		}
		f.Close()
	}
	for _, id := range orders {
		mustExec(t, pc, `UPDATE payments SET status = 'REFUNDED' WHERE order_id = $1 AND status = 'CAPTURED'`, id)
	}
	return len(orders)
}

func TestPlanApplyCheckCleanApplyAgainNothing(t *testing.T) {
	w := newWorld(t, 40)
	rules := w.writeRules(t)
	ctx := context.Background()
	rep, err := Check(ctx, rules, CheckOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := MakePlan(ctx, rules, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Actions) != 12 {
		for _, a := range plan.Actions {
			t.Logf("action %s %s %s", a.Invariant, a.Kind, a.Key)
		}
		t.Fatalf("%d actions, want 12", len(plan.Actions))
	}
	// caps refuse the whole plan before doing anything
	_, err = Apply(ctx, rules, plan, ApplyOptions{PlanHash: plan.Hash, MaxActions: 3})
	if !errors.Is(err, ErrCapExceeded) || errkind.ExitCode(err) != errkind.ExitPrecondition {
		t.Fatalf("max-actions: %v", err)
	}
	_, err = Apply(ctx, rules, plan, ApplyOptions{PlanHash: plan.Hash, MaxAmount: 1})
	if !errors.Is(err, ErrCapExceeded) {
		t.Fatalf("max-amount: %v", err)
	}
	// a plan changed after it was made is refused
	var buf bytes.Buffer
	if _, err := plan.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(buf.String(), "CANCELLED", "SHIPPED", 1)
	if _, err := ReadPlan(strings.NewReader(changed), plan.Hash); !errors.Is(err, ErrPlanChanged) {
		t.Fatalf("changed plan: %v", err)
	}
	read, err := ReadPlan(bytes.NewReader(buf.Bytes()), plan.Hash)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(ctx, rules, read, ApplyOptions{PlanHash: plan.Hash})
	if err != nil {
		t.Fatalf("apply: %v (%+v)", err, res)
	}
	for _, r := range res.Results {
		if r.Status != "applied" {
			t.Errorf("%s %s %s: %s %s", r.Invariant, r.Kind, r.Key, r.Status, r.Detail)
		}
	}
	if n := w.consumeRefunds(t); n != 3 {
		t.Errorf("%d refund events, want 3", n)
	}
	rep2, err := Check(ctx, rules, CheckOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Broken() {
		t.Errorf("after apply still broken: %q", findingSet(rep2))
	}
	res2, err := Apply(ctx, rules, read, ApplyOptions{PlanHash: plan.Hash})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Applied != 0 || res2.AlreadyApplied != len(plan.Actions) {
		t.Errorf("second apply: %+v", res2)
	}
	if n := w.consumeRefunds(t); n != 3 {
		t.Errorf("second apply wrote events again: %d", n)
	}
}
