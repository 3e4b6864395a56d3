package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// TestDeployRollbackKilledThenRerun kills `tidemark deploy rollback` with
// SIGKILL at several moments (while it takes the lock, rolls the expand
// back, or runs the reconcile check), runs the same command again, and
// checks that the second run finishes the job: old schema back, version
// schema gone, data consistent, rollback recorded.
func TestDeployRollbackKilledThenRerun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	w := worldtest.Generated(ctx, t, fixtures.GenOptions{Seed: 9, Orders: 3000})
	dir := worldtest.Files(t)
	envv := []string{"ORDERS_URL=" + w.URLs.Orders, "PAYMENTS_URL=" + w.URLs.Payments, "INVENTORY_URL=" + w.URLs.Inventory}
	killedMidway := 0
	for i, delay := range []time.Duration{50 * time.Millisecond, 250 * time.Millisecond, 600 * time.Millisecond, 1200 * time.Millisecond, 2500 * time.Millisecond} {
		release := fmt.Sprintf("r%d", i)
		tidemark(t, envv, "deploy", "start", "--database", w.URLs.Orders, "--service", "orders", "--release", release,
			"--expand", filepath.Join(dir, "expand", "orders_split_amount.yaml"), "--snapshot", "none").want(t, 0)
		args := []string{"deploy", "rollback", "--database", w.URLs.Orders, "--service", "orders", "--release", release,
			"--reason", "crash test", "--rules", filepath.Join(dir, "rules", "ecommerce.yaml"), "--grace", "1s", "--workers", "1", "--ranges", "1"}
		if killRun(t, envv, args, delay) {
			killedMidway++
			t.Logf("  state left by the killed run: %s", leftState(t, w, release))
		}
		r := tidemark(t, envv, args...).want(t, 0)
		if !strings.Contains(r.stdout, "rolled back") || !strings.Contains(r.stdout, "data: consistent") {
			t.Fatalf("re-run after kill at %s:\n%s", delay, r.stdout)
		}
		checkRolledBack(t, w, envv, release)
	}
	if killedMidway < 3 {
		t.Fatalf("only %d of 5 runs were killed before they finished: the test did not exercise a crash", killedMidway)
	}
}

// killRun starts tidemark, sends SIGKILL after delay, and reports whether
// the process was still running (killed mid-way).
func killRun(t *testing.T, envv, args []string, delay time.Duration) bool {
	t.Helper()
	cmd := exec.Command(bin.tidemark, args...)
	cmd.Env = append(append(os.Environ(), "TIDEMARK_LOG_LEVEL=warn"), envv...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		t.Logf("kill at %s: the run had already finished", delay)
		return false
	case <-time.After(delay):
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	err := <-done
	t.Logf("kill at %s: %v", delay, err)
	return true
}

func checkRolledBack(t *testing.T, w *fixtures.World, envv []string, release string) {
	t.Helper()
	ctx := context.Background()
	var n int
	if err := w.Orders.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = 'public_orders_split_amount'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("version schema still there (%d, %v)", n, err)
	}
	if err := w.Orders.QueryRow(ctx, "SELECT count(*) FROM public.orders WHERE amount > 0").Scan(&n); err != nil || n != 3000 {
		t.Fatalf("orders after rollback: %d, %v", n, err)
	}
	if breaks, err := fixtures.Check(ctx, w); err != nil || len(breaks) != 0 {
		t.Fatalf("data after rollback: %v %v", breaks, err)
	}
	st := tidemark(t, envv, "deploy", "status", "--database", w.URLs.Orders, "--service", "orders", "--output", "json").want(t, 0)
	if !strings.Contains(st.stdout, `"release": "`+release+`"`) || !strings.Contains(st.stdout, `"status": "rolled_back"`) {
		t.Fatalf("status after %s:\n%s", release, st.stdout)
	}
}

// leftState describes what a killed rollback left: the rollback record and
// whether the expand was already undone.
func leftState(t *testing.T, w *fixtures.World, release string) string {
	ctx := context.Background()
	var rec string
	err := w.Orders.QueryRow(ctx, `SELECT coalesce((SELECT r.result FROM tidemark.deploy_rollbacks r
		JOIN tidemark.deploy_deployments d ON d.id = r.deployment_id WHERE d.service = 'orders' AND d.release = $1), 'none')`, release).Scan(&rec)
	if err != nil {
		rec = err.Error()
	}
	var schemas int
	_ = w.Orders.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = 'public_orders_split_amount'").Scan(&schemas)
	return fmt.Sprintf("rollback record %s, version schema present: %v", rec, schemas == 1)
}
