package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// fleetEnv writes the fixtures' files and a fleet of five services, each
// with its own real database holding the orders schema:
//
//	web -> orders -> payments ; web -> inventory ; audit
func fleetEnv(t *testing.T) (string, []string) {
	t.Helper()
	dir := worldtest.Files(t)
	envv := []string{"CONTROL_URL=" + env.PostgresDB(t)}
	names := []string{"web", "orders", "payments", "inventory", "audit"}
	for _, n := range names {
		envv = append(envv, strings.ToUpper(n)+"_URL="+env.PostgresDB(t))
	}
	var b strings.Builder
	b.WriteString("state_url: ${CONTROL_URL}\nservices:\n")
	deps := map[string]string{"web": "[orders, inventory]", "orders": "[payments]"}
	for _, n := range names {
		fmt.Fprintf(&b, "  - name: %s\n    database: ${%s_URL}\n    migrations: migrations/orders\n    expand: [expand/orders_split_amount.yaml]\n", n, strings.ToUpper(n))
		if d, ok := deps[n]; ok {
			fmt.Fprintf(&b, "    depends_on: %s\n", d)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "fleet.yaml"), envv
}

func envValue(envv []string, k string) string {
	for _, kv := range envv {
		if v, ok := strings.CutPrefix(kv, k+"="); ok {
			return v
		}
	}
	return ""
}

type fleetRollback struct {
	Services []struct {
		Service, State, Error string
	}
}

func states(t *testing.T, out string) map[string]string {
	t.Helper()
	var fr fleetRollback
	if err := json.Unmarshal([]byte(out), &fr); err != nil {
		t.Fatalf("rollback JSON: %v\n%s", err, out)
	}
	m := map[string]string{}
	for _, s := range fr.Services {
		m[s.Service] = s.State
	}
	return m
}

// TestFleetRollback: five services started with release r1 (migrations +
// expand); a new-version client still connected to orders makes its
// rollback fail the drain check, which blocks payments (rolled back after
// orders) but not the others; after the client leaves, a re-run finishes.
func TestFleetRollback(t *testing.T) {
	fleet, envv := fleetEnv(t)
	for _, s := range []string{"web", "orders", "payments", "inventory", "audit"} {
		tidemark(t, envv, "deploy", "start", "--fleet", fleet, "--service", s, "--release", "r1", "--snapshot", "none").want(t, 0)
	}
	st := tidemark(t, envv, "deploy", "status", "--fleet", fleet, "--output", "json").want(t, 0)
	if strings.Count(st.stdout, `"orders_split_amount"`) != 5 || strings.Count(st.stdout, `"deploying"`) != 5 {
		t.Fatalf("status before rollback:\n%s", st.stdout)
	}

	// A v2 client of orders is still connected (tied to its version by application_name).
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(envValue(envv, "ORDERS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = "orders@public_orders_split_amount"
	client, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := tidemark(t, envv, "deploy", "rollback", "--fleet", fleet, "--release", "r1", "--reason", "bad release", "--parallel", "2", "--output", "json").want(t, 1)
	got := states(t, r.stdout)
	want := map[string]string{"web": "rolled_back", "orders": "failed", "payments": "blocked", "inventory": "rolled_back", "audit": "rolled_back"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v\n%s", got, want, r.stdout)
	}
	if !strings.Contains(r.stdout, "application_name") {
		t.Errorf("the failure should name the connected session:\n%s", r.stdout)
	}
	// The text summary of a re-run while the client is still there: the
	// rolled back services return their recorded result.
	r = tidemark(t, envv, "deploy", "rollback", "--fleet", fleet, "--all", "--reason", "bad release").want(t, 1)
	t.Logf("text summary:\n%s", r.stdout)
	for _, want := range []string{"fleet rollback: 5 service(s)", "payments", "blocked", "not rolled back: waits for orders failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text summary lacks %q", want)
		}
	}
	client.Close(ctx)

	r = tidemark(t, envv, "deploy", "rollback", "--fleet", fleet, "--all", "--reason", "bad release", "--output", "json").want(t, 0)
	for s, state := range states(t, r.stdout) {
		if state != "rolled_back" {
			t.Errorf("%s: %s after the re-run", s, state)
		}
	}
	st = tidemark(t, envv, "deploy", "status", "--fleet", fleet).want(t, 0)
	if strings.Count(st.stdout, "rolled_back") != 5 || strings.Contains(st.stdout, "orders_split_amount") {
		t.Fatalf("status after rollback:\n%s", st.stdout)
	}
}
