package deploy_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/worldtest"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/reconcile"
)

// TestReleaseCycleWithRealEngines: v1 migrates the orders database up from
// nothing; v2 expands it; the new version places orders with every fault;
// the rollback undoes the expand and the reconcile rules find the breaks.
func TestReleaseCycleWithRealEngines(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	w := worldtest.Open(ctx, t)
	for _, s := range []string{fixtures.Payments, fixtures.Inventory} {
		if err := fixtures.ApplyServiceSchema(ctx, w, s); err != nil {
			t.Fatal(err)
		}
	}
	dir := worldtest.Files(t)
	t.Setenv("ORDERS_URL", w.URLs.Orders)
	t.Setenv("PAYMENTS_URL", w.URLs.Payments)
	t.Setenv("INVENTORY_URL", w.URLs.Inventory)
	pool, err := pgxpool.New(ctx, w.URLs.Orders)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	d := &deploy.Deployer{Control: pool, Engines: deploy.Engines{
		Migrations: deploy.Migrations{},
		Expansions: deploy.ExpandContract{},
		Reconcile:  deploy.Reconcile{Options: reconcile.CheckOptions{Grace: 0}, HTMLReport: filepath.Join(dir, "report.html")},
	}}
	svc := deploy.Service{Name: "orders", Database: w.URLs.Orders, Migrations: filepath.Join(dir, "migrations", "orders"),
		Rules: filepath.Join(dir, "rules", "ecommerce.yaml")}
	v1, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	if v1.Migrate == nil || v1.Migrate.To != 2 {
		t.Fatalf("v1 migrate: %+v", v1.Migrate)
	}
	if _, err := d.Finish(ctx, svc, deploy.FinishOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(ctx, w, fixtures.GenOptions{Seed: 2, Orders: 300}); err != nil {
		t.Fatal(err)
	}
	svc.Expand = []string{filepath.Join(dir, "expand", "orders_split_amount.yaml")}
	v2, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	newPool, err := w.OrdersAs(ctx, v2.SearchPath, "orders-v2")
	if err != nil {
		t.Fatal(err)
	}
	faults := map[int64]fixtures.Fault{}
	s := &fixtures.Saga{World: w, Orders: newPool, Shape: fixtures.NewShape, Faults: func(id int64) fixtures.Fault { return faults[id] }}
	two := fixtures.OrderSpec{CustomerID: 1, Lines: []fixtures.Line{{SKU: "SKU-00003", Quantity: 2, UnitCents: 500}, {SKU: "SKU-00004", Quantity: 1, UnitCents: 250}}}
	for i, f := range fixtures.Faults {
		faults[int64(301+i)] = f
		id, err := s.Place(ctx, two)
		if err != nil && !errors.Is(err, fixtures.ErrCrashed) {
			t.Fatal(err)
		}
		if f == fixtures.DuplicateRefund || f == fixtures.CompensationHalfway {
			if err := s.Compensate(ctx, id); err != nil && !errors.Is(err, fixtures.ErrCompensationFailed) {
				t.Fatal(err)
			}
		}
	}
	newPool.Close()
	rb, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "new version failing"})
	if !errors.Is(err, errkind.ErrProblemsFound) {
		t.Fatalf("rollback: %v, want problems found", err)
	}
	if rb.Expand == nil || len(rb.Expand.Migrations) != 1 || rb.Reconcile.Breaks != 8 || rb.Consistent {
		t.Fatalf("rollback result: expand %+v reconcile %+v", rb.Expand, rb.Reconcile)
	}
	if _, err := pool.Exec(ctx, "SELECT amount FROM orders LIMIT 1"); err != nil {
		t.Fatalf("old shape after rollback: %v", err)
	}
	st := d.Status(ctx, svc)
	if st.Status != "rolled_back" || st.MigrationVersion == nil || *st.MigrationVersion != 2 || len(st.InFlight) != 0 {
		t.Fatalf("status: %+v", st)
	}
}
