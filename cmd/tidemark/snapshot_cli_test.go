package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/pgbin"
)

// tm runs the CLI in-process and returns exit code, stdout and stderr.
func tm(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func mustExit(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, errs := mustExit2(t, want, args...)
	return out + errs
}

// mustExit2 is mustExit with stdout and stderr apart.
func mustExit2(t *testing.T, want int, args ...string) (string, string) {
	t.Helper()
	code, out, errs := tm(t, args...)
	if code != want {
		t.Fatalf("tidemark %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errs)
	}
	if strings.Contains(out+errs, env.PGPassword) {
		t.Fatalf("password in output: %s %s", out, errs)
	}
	return out, errs
}

// TestSnapshotCLIPostgres drives create/list/verify/restore on a cluster
// with WAL archiving: exit codes, JSON, port=N, the manifest file.
func TestSnapshotCLIPostgres(t *testing.T) {
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	conn, err := pgx.Connect(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `CREATE TABLE orders(id int PRIMARY KEY, total int);
		INSERT INTO orders SELECT g, g FROM generate_series(1, 1000) g`); err != nil {
		t.Fatal(err)
	}
	db := "--database=" + pg.URL
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		os.Chmod(d, 0o755) //nolint:errcheck
	}
	// no base backup recorded yet: exit 3
	out := mustExit(t, 3, "snapshot", "create", db, "--label", "d1")
	if !strings.Contains(out, "no base backup") {
		t.Fatalf("no base backup message: %s", out)
	}
	mf := filepath.Join(dir, "manifest.json")
	out, _ = mustExit2(t, 0, "snapshot", "create", db, "--label", "d1", "--tables", "orders", "--base-backup", "pg_basebackup",
		"--backup-dir", filepath.Join(dir, "backups"), "--manifest-file", mf, "--output", "json")
	var m struct {
		Label    string
		Existing bool
		Position struct {
			LSN     string
			WALFile string `json:"wal_file"`
		}
		Tables []struct{ Rows int64 }
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || m.Label != "d1" || m.Existing || m.Position.LSN == "" || len(m.Tables) != 1 || m.Tables[0].Rows != 1000 {
		t.Fatalf("create json: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(mf); err != nil || !bytes.Contains(b, []byte(`"restore_point": "d1"`)) {
		t.Fatalf("manifest file: %v %s", err, b)
	}
	out = mustExit(t, 0, "snapshot", "create", db, "--label", "d1", "--output", "json")
	if !strings.Contains(out, `"existing": true`) || !strings.Contains(out, m.Position.LSN) {
		t.Fatalf("second create: %s", out)
	}
	if out = mustExit(t, 0, "snapshot", "list", db); !strings.Contains(out, "d1\t") {
		t.Fatalf("list: %s", out)
	}
	if out = mustExit(t, 0, "snapshot", "verify", "d1", db, "--drill"); !strings.Contains(out, `snapshot "d1" is restorable`) {
		t.Fatalf("verify: %s", out)
	}
	conn.Exec(context.Background(), `UPDATE orders SET total = 0 WHERE id < 10`) //nolint:errcheck
	mustExit(t, 3, "snapshot", "restore", "d1", db, "--tables", "orders")
	mustExit(t, 0, "snapshot", "restore", "d1", db, "--tables", "orders", "--discard-newer")

	target := filepath.Join(dir, "restored")
	out = mustExit(t, 0, "snapshot", "restore", "d1", db, "--target-dir", target)
	t.Cleanup(func() { pgbin.Run(context.Background(), "pg_ctl", "stop", "-D", target, "-m", "immediate") }) //nolint:errcheck
	if !regexp.MustCompile(`(?m)^port=\d+$`).MatchString(out) || !strings.Contains(out, "WAL replay") {
		t.Fatalf("restore: %s", out)
	}
	mustExit(t, 2, "snapshot", "restore", "d1", db, "--target-dir", target)

	// remove the marker's WAL segment from the archive: verify exits 4
	if err := os.Remove(filepath.Join(pg.ArchiveDir, m.Position.WALFile)); err != nil {
		t.Fatal(err)
	}
	out = mustExit(t, 4, "snapshot", "verify", "d1", db, "--output", "json")
	if !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "not in the archive") {
		t.Fatalf("verify after WAL loss: %s", out)
	}
}
