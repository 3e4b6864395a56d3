package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/deploy"
	"github.com/tidemark/tidemark/fixtures"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// TestRollbackRestoresTheSnapshotTables: deploy start snapshots orders on a
// cluster with WAL archiving; a bad release deletes orders; rollback
// --restore refuses to overwrite newer rows unless told, then restores them.
func TestRollbackRestoresTheSnapshotTables(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	url, err := pg.CreateDatabase(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	schema, _ := fixtures.Migrations.ReadFile("migrations/orders/000001_orders.up.sql")
	if _, err := pool.Exec(ctx, string(schema)); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO orders (id, customer_id, status, amount) SELECT g, g, 'PAID', g + 0.5 FROM generate_series(1, 500) g`); err != nil {
		t.Fatal(err)
	}
	d := &deploy.Deployer{Control: pool, Engines: deploy.Engines{Snapshots: deploy.PITR{
		Options: pitr.Options{ArchiveDir: pg.ArchiveDir},
		Create:  pitr.CreateOptions{BaseBackup: pitr.BackupPGBaseBackup, BackupDir: t.TempDir(), ArchiveWaitTimeout: time.Minute},
	}}}
	svc := deploy.Service{Name: "orders", Database: url, SnapshotTables: []string{"orders", "order_lines"}}
	res, err := d.Start(ctx, svc, deploy.StartOptions{Release: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Snapshot == nil || res.Snapshot.Label != "deploy-orders-v2" || len(res.Snapshot.Tables) != 2 {
		t.Fatalf("snapshot: %+v", res.Snapshot)
	}
	if _, err := pool.Exec(ctx, "DELETE FROM orders WHERE id > 400"); err != nil { // the bad release
		t.Fatal(err)
	}
	_, err = d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "bad release", Restore: true})
	if !errors.Is(err, errkind.ErrPrecondition) {
		t.Fatalf("restore over changed rows: %v, want a precondition error", err)
	}
	rb, err := d.Rollback(ctx, svc, deploy.RollbackOptions{Reason: "bad release", Restore: true, DiscardNewer: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM orders").Scan(&n); err != nil || n != 500 || rb.Restore == nil {
		t.Fatalf("after restore: %d orders, %v, %+v", n, err, rb.Restore)
	}
	if st := d.Status(ctx, svc); st.LastSnapshot == nil || st.LastSnapshot.Label != "deploy-orders-v2" {
		t.Fatalf("status: %+v", st)
	}
}
