package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/fixtures/worldtest"
)

// TestMongoServiceDeployCycle: the inventory service (MongoDB wire protocol,
// FerretDB) through deploy start (lease lock, collection snapshot,
// migrations) and rollback (migrations down to the version before the
// deploy), with its records on a PostgreSQL control database.
func TestMongoServiceDeployCycle(t *testing.T) {
	dir := worldtest.Files(t)
	mongoURL, control := env.MongoDB(t), env.PostgresDB(t)
	migrations := filepath.Join(dir, "migrations", "inventory")
	r0 := []string{"--database", mongoURL, "--service", "inventory", "--release", "r0", "--state-url", control, "--migrations", migrations}
	tidemark(t, nil, append([]string{"deploy", "start"}, r0...)...).want(t, 0)
	tidemark(t, nil, append([]string{"deploy", "finish"}, r0...)...).want(t, 0)
	// Release r1 brings a second migration.
	writeFile(t, filepath.Join(migrations, "000002_stock_sku_index.up.json"), `[{"createIndexes": "stock", "indexes": [{"key": {"on_hand": 1}, "name": "stock_on_hand"}]}]`)
	writeFile(t, filepath.Join(migrations, "000002_stock_sku_index.down.json"), `[{"dropIndexes": "stock", "index": "stock_on_hand"}]`)
	base := []string{"--database", mongoURL, "--service", "inventory", "--release", "r1", "--state-url", control, "--migrations", migrations}
	r := tidemark(t, nil, append([]string{"deploy", "start", "--snapshot-tables", "stock"}, base...)...).want(t, 0)
	for _, want := range []string{"deploy started: inventory release r1", "snapshot         done", "version 1 -> 2"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("start output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout+r.stderr, env.PGPassword) {
		t.Fatal("password in output")
	}
	st := tidemark(t, nil, append([]string{"deploy", "status", "--output", "json"}, base...)...).want(t, 0)
	for _, want := range []string{`"status": "deploying"`, `"migration_version": 2`, `"label": "deploy-inventory-r1"`} {
		if !strings.Contains(st.stdout, want) {
			t.Fatalf("status lacks %q:\n%s", want, st.stdout)
		}
	}
	r = tidemark(t, nil, append([]string{"deploy", "rollback", "--reason", "bad stock service"}, base...)...).want(t, 0)
	if !strings.Contains(r.stdout, "version 2 -> 1") {
		t.Fatalf("rollback should migrate down to the recorded version:\n%s", r.stdout)
	}
	// Without --state-url a MongoDB service has nowhere to keep its records.
	r = tidemark(t, nil, "deploy", "start", "--database", mongoURL, "--service", "inventory", "--release", "r2").want(t, 2)
	if !strings.Contains(r.stderr, "--state-url") {
		t.Fatalf("stderr: %s", r.stderr)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
