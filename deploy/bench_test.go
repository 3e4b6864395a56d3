package deploy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/env"
)

// BenchmarkFleet100 measures the fleet targets on 100 real databases (one
// PostgreSQL server), each with the orders schema, 1,000 orders and the
// split-amount expand/contract migration in flight:
//
//   - status_s: deploy status of the 100 services (target < 10 s), against
//     status_serial_s, the same read one service at a time;
//   - rollback_s: deploy rollback of the 100 in-flight migrations with
//     --parallel 8 (target < 60 s).
//
// Runs only when TIDEMARK_BENCH_SCALE is set (make bench).
func BenchmarkFleet100(b *testing.B) {
	if os.Getenv("TIDEMARK_BENCH_SCALE") == "" {
		b.Skip("set TIDEMARK_BENCH_SCALE to run benchmarks")
	}
	const n = 100
	ctx := context.Background()
	f, dep := benchFleet(b, n)
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		serial := deploy.FleetStatus(ctx, f, dep, 1)
		serialS := time.Since(t0).Seconds()
		t0 = time.Now()
		st := deploy.FleetStatus(ctx, f, dep, 16)
		statusS := time.Since(t0).Seconds()
		for _, s := range append(st.Services, serial.Services...) {
			if len(s.Errors) > 0 || len(s.InFlight) != 1 {
				b.Fatalf("status of %s: %+v", s.Service, s)
			}
		}
		t0 = time.Now()
		res, err := deploy.RollbackFleet(ctx, f, dep, deploy.FleetRollbackOptions{Selection: deploy.Selection{All: true}, Reason: "bench", Parallel: 8})
		rollbackS := time.Since(t0).Seconds()
		if err != nil || res.Counts[deploy.StateRolledBack] != n {
			b.Fatalf("rollback: %v %v", res.Counts, err)
		}
		b.ReportMetric(statusS, "status_s")
		b.ReportMetric(serialS, "status_serial_s")
		b.ReportMetric(serialS/statusS, "status_speedup")
		b.ReportMetric(rollbackS, "rollback_s")
		b.ReportMetric(rollbackS/n*1000, "rollback_ms/service")
	}
}

// benchFleet creates n databases with the expand migration in flight.
func benchFleet(b *testing.B, n int) (*deploy.Fleet, deploy.DeployerFunc) {
	ctx := context.Background()
	dir := b.TempDir()
	if err := fixtures.WriteFiles(dir); err != nil {
		b.Fatal(err)
	}
	schema, _ := fixtures.Migrations.ReadFile("migrations/orders/000001_orders.up.sql")
	control, err := pgxpool.New(ctx, env.PostgresDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(control.Close)
	d := &deploy.Deployer{Control: control, Engines: deploy.Engines{Expansions: deploy.ExpandContract{}}, LockTimeout: time.Minute}
	f := &deploy.Fleet{}
	sem := make(chan struct{}, 6)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		url := env.PostgresDB(b)
		s := deploy.Service{Name: fmt.Sprintf("svc%03d", i), Database: url, Expand: []string{filepath.Join(dir, "expand", "orders_split_amount.yaml")}}
		f.Services = append(f.Services, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- prepareService(ctx, d, s, string(schema))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	parsed, err := deploy.NewFleet("", f.Services)
	if err != nil {
		b.Fatal(err)
	}
	return parsed, func(context.Context, deploy.Service) (*deploy.Deployer, error) { return d, nil }
}

func prepareService(ctx context.Context, d *deploy.Deployer, s deploy.Service, schema string) error {
	conn, err := pgx.Connect(ctx, s.Database)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO orders (id, customer_id, status, amount)
		SELECT g, g % 97, 'PAID', (g % 1000) + 0.99 FROM generate_series(1, 1000) g`); err != nil {
		return err
	}
	_, err = d.Start(ctx, s, deploy.StartOptions{Release: "r1"})
	return err
}
