package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestMain(m *testing.M) { env.Main(m) }

// engine is a test engine: it records the calls the deployer makes, in
// order, and fails for the services named in fail. The databases (records,
// locks, journal) are real.
type engine struct {
	mu     sync.Mutex
	calls  []string
	fail   map[string]bool
	breaks int
	names  map[string]string // database name -> service
	delay  time.Duration
}

func (e *engine) call(t *dburl.URL, what string) error {
	time.Sleep(e.delay)
	e.mu.Lock()
	defer e.mu.Unlock()
	svc := e.names[t.Database()]
	e.calls = append(e.calls, what+" "+svc)
	if e.fail[svc] {
		return fmt.Errorf("%s failed on %s", what, svc)
	}
	return nil
}

func (e *engine) Expand(_ context.Context, t *dburl.URL, files []string) (deploy.ExpandInfo, error) {
	return deploy.ExpandInfo{Migrations: files, VersionSchema: "public_v2", SearchPath: "public_v2"}, e.call(t, "expand")
}
func (e *engine) Contract(_ context.Context, t *dburl.URL) (deploy.ExpandInfo, error) {
	return deploy.ExpandInfo{}, e.call(t, "contract")
}
func (e *engine) RollbackExpand(_ context.Context, t *dburl.URL) (deploy.ExpandInfo, error) {
	return deploy.ExpandInfo{Migrations: []string{"m"}}, e.call(t, "rollback")
}
func (e *engine) ExpandStatus(_ context.Context, t *dburl.URL) (deploy.ExpandInfo, error) {
	return deploy.ExpandInfo{Migrations: []string{"m"}, Phase: "expanded"}, nil
}
func (e *engine) Check(_ context.Context, rules string) (deploy.ReconcileInfo, error) {
	return deploy.ReconcileInfo{Rules: rules, Breaks: e.breaks}, nil
}
func (e *engine) LastRun(context.Context, *dburl.URL) (*deploy.ReconcileInfo, error) { return nil, nil }

func newDeployer(t *testing.T, url string, e *engine) *deploy.Deployer {
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &deploy.Deployer{Control: pool, Engines: deploy.Engines{Expansions: e, Reconcile: e}, LockTimeout: 5 * time.Second}
}

func TestStartFinishRollbackAreRecordedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	url := env.PostgresDB(t)
	u, _ := dburl.Parse(url, "")
	e := &engine{names: map[string]string{u.Database(): "orders"}}
	d := newDeployer(t, url, e)
	svc := deploy.Service{Name: "orders", Database: url, Expand: []string{"split.yaml"}, Rules: "rules.yaml"}

	res, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if res.SearchPath != "public_v2" || res.AlreadyDone {
		t.Fatalf("start: %+v", res)
	}
	again, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"})
	if err != nil || !again.AlreadyDone || again.DeploymentID != res.DeploymentID || again.SearchPath != "public_v2" {
		t.Fatalf("re-run of start: %+v, %v", again, err)
	}
	if len(e.calls) != 1 {
		t.Fatalf("a completed start must not expand again: %v", e.calls)
	}

	e.breaks = 3
	rb, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "5xx after deploy"})
	if !errors.Is(err, errkind.ErrProblemsFound) || rb.Consistent || rb.Reconcile.Breaks != 3 {
		t.Fatalf("rollback with breaks: %+v, %v", rb, err)
	}
	rb2, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "again"})
	if !errors.Is(err, errkind.ErrProblemsFound) || !rb2.AlreadyDone {
		t.Fatalf("re-run of rollback: %+v, %v", rb2, err)
	}
	if _, err := d.Finish(ctx, svc, deploy.FinishOptions{}); !errors.Is(err, errkind.ErrPrecondition) {
		t.Fatalf("finish of a rolled back release: %v, want a precondition error", err)
	}
	st := d.Status(ctx, svc)
	if st.Status != "rolled_back" || st.Version != "v2" || len(st.InFlight) != 1 {
		t.Fatalf("status: %+v", st)
	}

	// The same release deployed again starts over, then finishes.
	if _, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"}); err != nil {
		t.Fatal(err)
	}
	fin, err := d.Finish(ctx, svc, deploy.FinishOptions{Release: "v2"})
	if err != nil || fin.Contract == nil {
		t.Fatalf("finish: %+v, %v", fin, err)
	}
	want := "expand orders,rollback orders,expand orders,contract orders"
	if got := strings.Join(e.calls, ","); got != want {
		t.Fatalf("engine calls %s, want %s", got, want)
	}
	if st := d.Status(ctx, svc); st.Status != "deployed" {
		t.Fatalf("status after finish: %+v", st)
	}
	// A re-triggered pre-deploy hook after the finish changes nothing.
	if again, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"}); err != nil || !again.AlreadyDone {
		t.Fatalf("start after finish: %+v %v", again, err)
	}
	if st := d.Status(ctx, svc); st.Status != "deployed" || len(e.calls) != 4 {
		t.Fatalf("status after a re-run of start: %+v, calls %v", st, e.calls)
	}
}

func TestRollbackWithoutDeploymentIsAPrecondition(t *testing.T) {
	url := env.PostgresDB(t)
	d := newDeployer(t, url, &engine{})
	_, err := d.Rollback(context.Background(), deploy.Service{Name: "ghost", Database: url}, deploy.RollbackOptions{Reason: "x"})
	if !errors.Is(err, deploy.ErrNoDeployment) || errkind.ExitCode(err) != 3 {
		t.Fatalf("err = %v", err)
	}
	_, err = d.Rollback(context.Background(), deploy.Service{Name: "ghost", Database: url}, deploy.RollbackOptions{})
	if errkind.ExitCode(err) != 2 {
		t.Fatalf("no reason: %v", err)
	}
}
