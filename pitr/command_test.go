package pitr

import (
	"context"
	"strings"
	"testing"
)

// An external tool that exits 0 after printing errors (as `pgbackrest
// verify` does) is a failure; its output and exit status are recorded.
func TestRunCommandScansOutput(t *testing.T) {
	ctx := context.Background()
	run, err := RunCommand(ctx, `echo "P00  ERROR: [028]: backup set 20260101-000000F is invalid"; exit 0`, nil)
	if err == nil || !strings.Contains(err.Error(), "exited 0 but reported errors") || run.ExitCode != 0 {
		t.Fatalf("error output with exit 0: %+v %v", run, err)
	}
	run, err = RunCommand(ctx, `echo partial; exit 3`, nil)
	if err == nil || run.ExitCode != 3 || !strings.Contains(run.Output, "partial") {
		t.Fatalf("exit 3: %+v %v", run, err)
	}
	run, err = RunCommand(ctx, ExpandTemplate(`echo backup {label} of {dbname}`, map[string]string{"label": "deploy-1; rm -rf /", "dbname": "shop"}), []string{"PGPASSWORD=x"})
	if err != nil || strings.TrimSpace(run.Output) != "backup deploy-1; rm -rf / of shop" {
		t.Fatalf("template: %+v %v", run, err)
	}
	run, _ = RunCommand(ctx, `echo postgres://u:hunter2@h/db`, nil)
	if strings.Contains(run.Output, "hunter2") {
		t.Fatalf("password not redacted: %s", run.Output)
	}
}

func TestStoreName(t *testing.T) {
	a, b := StoreName("tidemark_snap_", "Deploy-Orders/abc"), StoreName("tidemark_snap_", "deploy-orders-abc")
	if a == b || !strings.HasPrefix(a, "tidemark_snap_deploy_orders_abc_") || len(StoreName("p_", strings.Repeat("x", 300))) > 63 {
		t.Fatalf("%s %s", a, b)
	}
}
