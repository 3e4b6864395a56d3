package postgres_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// TestClusterRoundTrip: base backup, data, snapshot, more writes (inserts,
// updates, deletes, a dropped table), restore into a new directory: exactly
// the pre-deploy data, nothing after.
func TestClusterRoundTrip(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"plain", "tar"} {
		t.Run(format, func(t *testing.T) { testRoundTrip(t, format) })
	}
}

func testRoundTrip(t *testing.T, format string) {
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	ctx := ctxT(t)
	c := connect(t, pg.URL)
	exec(t, c, `CREATE TABLE orders(id int PRIMARY KEY, total numeric, note text)`)
	exec(t, c, `CREATE TABLE stock(sku text PRIMARY KEY, qty int)`)
	p := open(t, pg.URL)
	if _, err := p.Create(ctx, pitr.CreateOptions{Label: "base", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: backupDir(t, pg), BackupFormat: format}); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `INSERT INTO orders SELECT g, g * 1.5, 'n' || g FROM generate_series(1, 5000) g`)
	exec(t, c, `INSERT INTO stock SELECT 'sku' || g, g FROM generate_series(1, 300) g`)
	wantOrders, wantStock := sum(t, c, "orders"), sum(t, c, "stock")

	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-orders-abc123"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Existing || m.Position.LSN == "" || !m.Position.Archived || m.BaseBackup == nil || m.BaseBackup.Format != format {
		t.Fatalf("manifest: %+v", m)
	}
	if r, err := p.Verify(ctx, m.Label, pitr.VerifyOptions{}); err != nil || !r.OK {
		t.Fatalf("verify: %+v %v", r, err)
	}
	again, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-orders-abc123"})
	if err != nil || !again.Existing || again.Position.LSN != m.Position.LSN {
		t.Fatalf("second create: %+v, %v", again, err)
	}

	exec(t, c, `INSERT INTO orders SELECT g, 1, 'after' FROM generate_series(5001, 6000) g`)
	exec(t, c, `UPDATE orders SET total = 0 WHERE id <= 100`)
	exec(t, c, `DELETE FROM orders WHERE id BETWEEN 200 AND 300`)
	exec(t, c, `DROP TABLE stock`)
	exec(t, c, `CREATE TABLE after_deploy(x int)`)
	exec(t, c, `SELECT pg_switch_wal()`)

	target := filepath.Join(scratchDir(t), "restored")
	res, err := p.Restore(ctx, "deploy-orders-abc123", pitr.RestoreOptions{TargetDir: target})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopDir(target) })
	if res.Port == 0 || res.Timings["copy"] <= 0 || res.Timings["wal_replay"] <= 0 {
		t.Fatalf("result: %+v", res)
	}
	r := connect(t, replacePort(pg.URL, res.Port))
	if got := sum(t, r, "orders"); got != wantOrders {
		t.Errorf("orders differ after restore")
	}
	if got := sum(t, r, "stock"); got != wantStock {
		t.Errorf("stock differs after restore")
	}
	var n int
	if err := r.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname = 'after_deploy'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("after_deploy exists in the restored cluster (%d, %v)", n, err)
	}

	// the target now exists and is not empty: refused
	_, err = p.Restore(ctx, "deploy-orders-abc123", pitr.RestoreOptions{TargetDir: target})
	if !errors.Is(err, errkind.ErrUsage) {
		t.Errorf("restore into a non-empty dir: %v", err)
	}
	_, err = p.Restore(ctx, "deploy-orders-abc123", pitr.RestoreOptions{TargetDir: pg.DataDir})
	if !errors.Is(err, errkind.ErrUsage) {
		t.Errorf("restore over the live data dir: %v", err)
	}
}
