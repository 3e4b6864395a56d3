package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// TestDeployStartKilledThenRerun kills `tidemark deploy start` during the
// expand and its backfill of 200,000 orders, runs it again, and checks that
// the second run finishes: the version schema serves every row in the new
// shape, and the deployment is recorded once (attempt 2).
func TestDeployStartKilledThenRerun(t *testing.T) {
	ctx := context.Background()
	dir := worldtest.Files(t)
	url := env.PostgresDB(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema, _ := fixtures.Migrations.ReadFile("migrations/orders/000001_orders.up.sql")
	if _, err := conn.Exec(ctx, string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO orders (id, customer_id, status, amount)
		SELECT g, g % 1000, 'PAID', (g % 10000) / 100.0 FROM generate_series(1, 200000) g`); err != nil {
		t.Fatal(err)
	}
	args := []string{"deploy", "start", "--database", url, "--service", "orders", "--release", "v2", "--snapshot", "none",
		"--expand", filepath.Join(dir, "expand", "orders_split_amount.yaml")}
	killed := 0
	for _, delay := range []int{300, 900} {
		if killRun(t, nil, args, msec(delay)) {
			killed++
		}
	}
	r := tidemark(t, nil, args...).want(t, 0)
	if !strings.Contains(r.stdout, "search_path=public_orders_split_amount") {
		t.Fatalf("re-run:\n%s", r.stdout)
	}
	if killed == 0 {
		t.Fatal("no run was killed before it finished")
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("attempt %d", killed+1)) {
		t.Errorf("the deployment should be recorded once, attempt %d:\n%s", killed+1, r.stdout)
	}
	var n, wrong int64
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE amount_cents IS DISTINCT FROM (g.id % 10000))
		FROM public_orders_split_amount.orders g`).Scan(&n, &wrong); err != nil || n != 200000 || wrong != 0 {
		t.Fatalf("new version sees %d rows, %d wrong (%v)", n, wrong, err)
	}
}

func msec(n int) time.Duration { return time.Duration(n) * time.Millisecond }
