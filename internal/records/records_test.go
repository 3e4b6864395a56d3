package records

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
)

func TestMain(m *testing.M) { env.Main(m) }

func openStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, env.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	st, err := Open(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDeploymentLifecycleIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	d, err := st.StartDeployment(ctx, Start{Service: "orders", Release: "v42", Details: map[string]any{"by": "pipeline"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Result != Running || d.Version != "v42" || d.Attempts != 1 || d.FinishedAt != nil {
		t.Fatalf("started: %+v", d)
	}
	if _, err := st.FinishDeployment(ctx, d.ID, Failed, map[string]any{"error": "boom"}); err != nil {
		t.Fatal(err)
	}
	svcs, err := st.ListServices(ctx)
	if err != nil || len(svcs) != 1 || svcs[0].Status != StatusFailed || svcs[0].Version != "v42" {
		t.Fatalf("services after failure: %+v, %v", svcs, err)
	}
	// The pipeline re-runs the same release: same record, second attempt.
	again, err := st.StartDeployment(ctx, Start{Service: "orders", Release: "v42"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != d.ID || again.Attempts != 2 || again.Result != Running {
		t.Fatalf("restarted: %+v (first id %d)", again, d.ID)
	}
	done, err := st.FinishDeployment(ctx, d.ID, Succeeded, map[string]any{"migrations": 3})
	if err != nil {
		t.Fatal(err)
	}
	var details map[string]any
	if err := json.Unmarshal(done.Details, &details); err != nil {
		t.Fatal(err)
	}
	if done.Result != Succeeded || done.FinishedAt == nil || details["by"] != "pipeline" || details["migrations"] != float64(3) {
		t.Fatalf("finished: %+v details %v", done, details)
	}
	latest, err := st.LatestDeployment(ctx, "orders")
	if err != nil || latest.ID != d.ID || latest.Result != Succeeded {
		t.Fatalf("latest: %+v, %v", latest, err)
	}
	svcs, _ = st.ListServices(ctx)
	if len(svcs) != 1 || svcs[0].Status != StatusDeployed {
		t.Fatalf("services: %+v", svcs)
	}
}

func TestRollbackMarksDeploymentAndService(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	d1, _ := st.StartDeployment(ctx, Start{Service: "payments", Release: "r1"})
	_, _ = st.FinishDeployment(ctx, d1.ID, Succeeded, nil)
	d2, err := st.StartDeployment(ctx, Start{Service: "payments", Release: "r2", Version: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = st.FinishDeployment(ctx, d2.ID, Succeeded, nil)
	r, err := st.RecordRollback(ctx, RollbackInput{DeploymentID: d2.ID, Reason: "error rate", Result: Running})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := st.RecordRollback(ctx, RollbackInput{DeploymentID: d2.ID, Reason: "error rate", Result: Succeeded,
		Findings: map[string]any{"broken_invariants": 2}})
	if err != nil {
		t.Fatal(err)
	}
	if r2.ID != r.ID || r2.Result != Succeeded || string(r2.Findings) != `{"broken_invariants": 2}` {
		t.Fatalf("rollback recorded twice: %+v then %+v (%s)", r, r2, r2.Findings)
	}
	latest, _ := st.LatestDeployment(ctx, "payments")
	if latest.ID != d2.ID || latest.Result != RolledBack {
		t.Fatalf("latest after rollback: %+v", latest)
	}
	svcs, _ := st.ListServices(ctx)
	if len(svcs) != 1 || svcs[0].Status != StatusRolledBack || svcs[0].Version != "2.0.0" {
		t.Fatalf("services: %+v", svcs)
	}
}

func TestUnknownRecordsAreNotFound(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	if _, err := st.LatestDeployment(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("latest of unknown service: %v", err)
	}
	if _, err := st.FinishDeployment(ctx, 999, Succeeded, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("finish unknown deployment: %v", err)
	}
	if _, err := st.RecordRollback(ctx, RollbackInput{DeploymentID: 999, Reason: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("rollback of unknown deployment: %v", err)
	}
	if _, err := st.StartDeployment(ctx, Start{Service: "orders"}); err == nil {
		t.Error("start without release accepted")
	}
}
