package deploy_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// TestOrdersSplitAmountStartAndRollback runs the demo's migration through
// the real expand/contract engine: both app versions place orders while it
// is expanded, and a rollback leaves the old shape with every order intact.
func TestOrdersSplitAmountStartAndRollback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := worldtest.Generated(ctx, t, fixtures.GenOptions{Seed: 3, Orders: 200})
	dir := worldtest.Files(t)
	pool, err := pgxpool.New(ctx, w.URLs.Orders)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	d := &deploy.Deployer{Control: pool, Engines: deploy.Engines{Expansions: deploy.ExpandContract{}}}
	svc := deploy.Service{Name: "orders", Database: w.URLs.Orders, Expand: []string{filepath.Join(dir, "expand", "orders_split_amount.yaml")}}
	res, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if res.SearchPath == "" {
		t.Fatalf("no search_path for the new version: %+v", res)
	}
	newPool, err := w.OrdersAs(ctx, res.SearchPath, "orders-v2")
	if err != nil {
		t.Fatal(err)
	}
	r := fixtures.NewRand(5)
	cat := fixtures.CatalogFor(200)
	for _, s := range []*fixtures.Saga{{World: w, Orders: w.Orders, Shape: fixtures.OldShape}, {World: w, Orders: newPool, Shape: fixtures.NewShape}} {
		for i := 0; i < 5; i++ {
			if _, err := s.Place(ctx, fixtures.RandomOrder(r, cat)); err != nil {
				t.Fatalf("place (shape %d): %v", s.Shape, err)
			}
		}
	}
	var cents int64
	if err := newPool.QueryRow(ctx, "SELECT sum(amount_cents) FROM orders").Scan(&cents); err != nil || cents == 0 {
		t.Fatalf("new version reads amount_cents: %d, %v", cents, err)
	}
	st := d.Status(ctx, svc)
	if len(st.InFlight) != 1 {
		t.Fatalf("status: %+v", st)
	}
	newPool.Close() // the new version is gone before the database rolls back (drain check)
	rb, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Expand == nil || len(rb.Expand.Migrations) != 1 {
		t.Fatalf("rollback: %+v", rb)
	}
	breaks, err := fixtures.Check(ctx, w)
	if err != nil || len(breaks) != 0 {
		t.Fatalf("after rollback: %v %v", breaks, err)
	}
	var n int
	if err := w.Orders.QueryRow(ctx, "SELECT count(*) FROM orders WHERE amount > 0").Scan(&n); err != nil || n != 210 {
		t.Fatalf("orders with amount after rollback: %d, %v", n, err)
	}
}

func TestMetricsOfAStart(t *testing.T) {
	ctx := context.Background()
	url := env.PostgresDB(t)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	schema, _ := fixtures.Migrations.ReadFile("migrations/orders/000001_orders.up.sql")
	if _, err := pool.Exec(ctx, string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO orders (id, customer_id, status, amount) SELECT g, g, 'PAID', g FROM generate_series(1, 321) g`); err != nil {
		t.Fatal(err)
	}
	dir := worldtest.Files(t)
	m := deploy.NewMetrics()
	d := &deploy.Deployer{Control: pool, Engines: deploy.Engines{Expansions: deploy.ExpandContract{}}, Events: m.Observe}
	svc := deploy.Service{Name: "orders", Database: url, Expand: []string{filepath.Join(dir, "expand", "orders_split_amount.yaml")}}
	if _, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"}); err != nil {
		t.Fatal(err)
	}
	text := m.Text()
	for _, want := range []string{
		`tidemark_deploy_backfill_rows{service="orders"} 321`,
		`tidemark_deploy_phase{service="orders",verb="start",step="expand"} 1`,
		`tidemark_deploy_step_success{service="orders",verb="start",step="snapshot"} 1`,
		"# TYPE tidemark_deploy_step_duration_seconds gauge",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s:\n%s", want, text)
		}
	}
	if strings.Count(text, "tidemark_deploy_phase{") != 1 {
		t.Errorf("one phase per service and verb:\n%s", text)
	}
}
