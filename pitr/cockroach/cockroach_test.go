package cockroach_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/pitr"
	_ "github.com/tidemark/tidemark/pitr/cockroach"
)

func TestMain(m *testing.M) { env.Main(m) }

// TestCockroachMarkerAndChecksums needs a real CockroachDB
// (TIDEMARK_TEST_COCKROACH_URL); it skips otherwise. It records a marker,
// changes the table, and verifies that the checksums read AS OF SYSTEM TIME
// the marker still match the manifest.
func TestCockroachMarkerAndChecksums(t *testing.T) {
	raw := env.CockroachURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{`DROP TABLE IF EXISTS pitr_orders`, `CREATE TABLE pitr_orders(id INT PRIMARY KEY, total INT)`,
		`INSERT INTO pitr_orders SELECT g, g FROM generate_series(1, 100) g`} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	u, err := dburl.Parse(raw, "cockroach")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pitr.Open(ctx, u, pitr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(ctx)
	label := "crdb-" + time.Now().Format("150405.000")
	m, err := p.Create(ctx, pitr.CreateOptions{Label: label, Tables: []string{"pitr_orders"}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Position.HLC == "" || m.Position.RestorableUntil == nil || m.Tables[0].Rows != 100 {
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := c.Exec(ctx, `DELETE FROM pitr_orders WHERE id > 50`); err != nil {
		t.Fatal(err)
	}
	if r, err := p.Verify(ctx, label, pitr.VerifyOptions{}); err != nil || !r.OK {
		t.Fatalf("verify: %+v %v", r, err)
	}
	if again, err := p.Create(ctx, pitr.CreateOptions{Label: label}); err != nil || !again.Existing {
		t.Fatalf("second create: %v", err)
	}
}
