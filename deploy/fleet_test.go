package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestParseFleetErrorsNameFileAndLine(t *testing.T) {
	t.Setenv("ORDERS_URL", "postgres://u:pw@localhost/orders")
	for _, tc := range []struct{ src, want string }{
		{"services:\n  - name: a\n    database: ${NOPE}\n", "fleet.yaml:2: service a: no database"},
		{"services:\n  - name: a\n    database: $ORDERS_URL\n    depends_on: [b]\n", "fleet.yaml:2: service a depends on unknown service \"b\""},
		{"services:\n  - name: a\n    database: $ORDERS_URL\n    depnds_on: [b]\n", "fleet.yaml:4: unknown key \"depnds_on\""},
		{"services:\n  - name: a\n    database: $ORDERS_URL\n  - name: a\n    database: $ORDERS_URL\n", "fleet.yaml:4: service \"a\" listed twice"},
		{"services:\n  - name: a\n    database: $ORDERS_URL\n    depends_on: [b]\n  - name: b\n    database: $ORDERS_URL\n    depends_on: [a]\n", "fleet.yaml:2: dependency cycle: a -> b -> a"},
		{"services:\n  - name: a\n    database: ftp://x/y\n", "fleet.yaml:2: service a: unsupported database URL scheme"},
	} {
		_, err := deploy.ParseFleet(strings.NewReader(tc.src), "fleet.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || errkind.ExitCode(err) != 2 {
			t.Errorf("%q: err = %v, want %q (exit 2)", tc.src, err, tc.want)
		}
	}
	f, err := deploy.ParseFleet(strings.NewReader("services:\n  - name: a\n    database: $ORDERS_URL\n    rules: r.yaml\n"), "/etc/tm/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Service("a"); s.Rules != "/etc/tm/r.yaml" || !strings.HasSuffix(s.Database, "/orders") {
		t.Fatalf("service %+v", s)
	}
}

// fleetWorld builds a fleet of services sharing one real database (control
// and target), each started with release r1.
//
//	web -> orders -> payments ; web -> inventory ; audit (alone)
func fleetWorld(t *testing.T, e *engine) (*deploy.Fleet, deploy.DeployerFunc) {
	t.Helper()
	url := env.PostgresDB(t)
	t.Setenv("FLEET_DB", url)
	src := `services:
  - {name: web, database: $FLEET_DB, expand: [x.yaml], depends_on: [orders, inventory]}
  - {name: orders, database: $FLEET_DB, expand: [x.yaml], depends_on: [payments], priority: 5}
  - {name: payments, database: $FLEET_DB, expand: [x.yaml]}
  - {name: inventory, database: $FLEET_DB, expand: [x.yaml], priority: 1}
  - {name: audit, database: $FLEET_DB, expand: [x.yaml], priority: 9}
`
	f, err := deploy.ParseFleet(strings.NewReader(src), "fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := newDeployer(t, url, e)
	dep := func(context.Context, deploy.Service) (*deploy.Deployer, error) { return d, nil }
	for _, s := range f.Services {
		if _, err := d.Start(context.Background(), s, deploy.StartOptions{Release: "r1"}); err != nil {
			t.Fatal(err)
		}
	}
	return f, dep
}

// serviceEngine attributes calls by the deploy lock holder's service: all
// services share a database here, so the engine is told by a wrapper.
type serviceEngine struct {
	*engine
	svc string
}

func (s serviceEngine) RollbackExpand(ctx context.Context, t *dburl.URL) (deploy.ExpandInfo, error) {
	time.Sleep(s.delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, "rollback "+s.svc)
	if s.fail[s.svc] {
		return deploy.ExpandInfo{}, fmt.Errorf("rollback failed on %s", s.svc)
	}
	return deploy.ExpandInfo{Migrations: []string{"x"}}, nil
}

func perService(dep deploy.DeployerFunc, e *engine) deploy.DeployerFunc {
	return func(ctx context.Context, s deploy.Service) (*deploy.Deployer, error) {
		d, _ := dep(ctx, s)
		c := *d
		c.Engines.Expansions = serviceEngine{e, s.Name}
		return &c, nil
	}
}

func TestRollbackFleetReverseDependencyOrder(t *testing.T) {
	e := &engine{fail: map[string]bool{}}
	f, dep := fleetWorld(t, e)
	e.calls = nil
	res, err := deploy.RollbackFleet(context.Background(), f, perService(dep, e), deploy.FleetRollbackOptions{
		Selection: deploy.Selection{All: true}, Reason: "bad release", Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Serial: audit (priority 9) and web are ready first; orders (5) and
	// inventory (1) wait for web; payments (0) waits for orders.
	want := "rollback audit,rollback web,rollback orders,rollback inventory,rollback payments"
	if got := strings.Join(e.calls, ","); got != want {
		t.Fatalf("order %s, want %s", got, want)
	}
	if res.Counts[deploy.StateRolledBack] != 5 {
		t.Fatalf("counts %v", res.Counts)
	}
}

func TestRollbackFleetFailureBlocksOnlyWhatWaitsForIt(t *testing.T) {
	e := &engine{fail: map[string]bool{"orders": true}, delay: 20 * time.Millisecond}
	f, dep := fleetWorld(t, e)
	res, err := deploy.RollbackFleet(context.Background(), f, perService(dep, e), deploy.FleetRollbackOptions{
		Selection: deploy.Selection{Release: "r1"}, Reason: "bad release", Parallel: 3})
	if err == nil || errors.Is(err, errkind.ErrProblemsFound) {
		t.Fatalf("err = %v, want a failure", err)
	}
	state := map[string]string{}
	for _, s := range res.Services {
		state[s.Service] = s.State
	}
	want := map[string]string{"web": "rolled_back", "orders": "failed", "payments": "blocked", "inventory": "rolled_back", "audit": "rolled_back"}
	if fmt.Sprint(state) != fmt.Sprint(want) {
		t.Fatalf("states %v, want %v", state, want)
	}
	// Re-run after the fix: the rolled back ones return their recorded
	// result, orders and payments are rolled back now.
	e.fail = map[string]bool{}
	e.calls = nil
	res, err = deploy.RollbackFleet(context.Background(), f, perService(dep, e), deploy.FleetRollbackOptions{
		Selection: deploy.Selection{All: true}, Reason: "bad release", Parallel: 3})
	if err != nil || res.Counts[deploy.StateRolledBack] != 5 {
		t.Fatalf("re-run: %v %v", res.Counts, err)
	}
	if got := strings.Join(e.calls, ","); got != "rollback orders,rollback payments" {
		t.Fatalf("re-run calls %s", got)
	}
}
