package integration

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// TestDeployFinishContracts: start (migrations + expand), then finish
// without repeating the expand files: the split-amount migration is
// contracted (amount gone, amount_cents and currency final), once.
func TestDeployFinishContracts(t *testing.T) {
	ctx := context.Background()
	dir := worldtest.Files(t)
	url := env.PostgresDB(t)
	tidemark(t, nil, "deploy", "start", "--database", url, "--service", "orders", "--release", "v2", "--snapshot", "none",
		"--migrations", filepath.Join(dir, "migrations", "orders"), "--expand", filepath.Join(dir, "expand", "orders_split_amount.yaml")).want(t, 0)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO orders (id, customer_id, status, amount) VALUES (1, 1, 'PAID', 12.34)`); err != nil {
		t.Fatal(err)
	}
	r := tidemark(t, nil, "deploy", "finish", "--database", url, "--service", "orders", "--output", "json").want(t, 0)
	if !strings.Contains(r.stdout, `"orders_split_amount"`) {
		t.Fatalf("finish did not contract:\n%s", r.stdout)
	}
	var cents int64
	var cur string
	if err := conn.QueryRow(ctx, "SELECT amount_cents, currency FROM public.orders WHERE id = 1").Scan(&cents, &cur); err != nil || cents != 1234 || cur != "EUR" {
		t.Fatalf("after contract: %d %q %v", cents, cur, err)
	}
	if _, err := conn.Exec(ctx, "SELECT amount FROM public.orders"); err == nil {
		t.Fatal("amount still there after contract")
	}
	r = tidemark(t, nil, "deploy", "finish", "--database", url, "--service", "orders").want(t, 0)
	if !strings.Contains(r.stdout, "already finished") {
		t.Fatalf("re-run:\n%s", r.stdout)
	}
	tidemark(t, nil, "deploy", "status", "--database", url, "--service", "orders").want(t, 0)
}
