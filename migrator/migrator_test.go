package migrator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestMain(m *testing.M) { env.Main(m) }

// writeFiles writes name -> content into a new temp dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func openPGT(t *testing.T, raw, dir string, opts Options) *Migrator {
	t.Helper()
	u, err := dburl.Parse(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	opts.Source = dir
	m, err := Open(context.Background(), u, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { m.Close(context.Background()) })
	return m
}

func writeTo(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func query(t *testing.T, raw, sql string) string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var s string
	if err := c.QueryRow(ctx, sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

var basic = map[string]string{
	"001_create_orders.up.sql":   "CREATE TABLE orders (id int PRIMARY KEY, total numeric NOT NULL);\nINSERT INTO orders VALUES (1, 10);\n",
	"001_create_orders.down.sql": "DROP TABLE orders;\n",
	"002_add_note.up.sql":        "ALTER TABLE orders ADD COLUMN note text;\n",
	"002_add_note.down.sql":      "ALTER TABLE orders DROP COLUMN note;\n",
	"003_index.up.sql":           "-- tidemark:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total ON orders (total);\n",
	"003_index.down.sql":         "DROP INDEX IF EXISTS orders_total;\n",
}

func TestUpDownGotoAndHistory(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	m := openPGT(t, raw, writeFiles(t, basic), Options{})

	p, err := m.Plan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 3 || len(p.Steps[0].Statements) != 2 || p.Steps[2].Transactional || p.Target != 3 {
		t.Fatalf("plan: %+v", p)
	}
	res, err := m.Up(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if res.From != 0 || res.To != 2 || len(res.Steps) != 2 {
		t.Fatalf("up 2: %+v", res)
	}
	if res, err = m.Up(ctx, 0); err != nil || res.To != 3 {
		t.Fatalf("up: %+v %v", res, err)
	}
	if got := query(t, raw, "SELECT indexname FROM pg_indexes WHERE indexname = 'orders_total'"); got != "orders_total" {
		t.Fatal("concurrent index missing")
	}
	if res, err = m.Down(ctx, 0); err != nil || res.To != 2 {
		t.Fatalf("down: %+v %v", res, err)
	}
	if res, err = m.Goto(ctx, 1); err != nil || res.To != 1 || len(res.Steps) != 1 {
		t.Fatalf("goto 1: %+v %v", res, err)
	}
	if res, err = m.Goto(ctx, 3); err != nil || res.To != 3 || len(res.Steps) != 2 {
		t.Fatalf("goto 3: %+v %v", res, err)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Current != 3 || len(st.Pending) != 0 || len(st.History) != 7 || len(st.Drift) != 0 || len(st.Unfinished) != 0 {
		t.Fatalf("status: %+v", st)
	}
	h := st.History[0]
	if h.Checksum == "" || h.Host == "" || h.User != "postgres" || h.FinishedAt == nil || h.Result != ResultSucceeded || h.StatementsDone != 2 {
		t.Fatalf("history row: %+v", h)
	}
	if _, err := m.Goto(ctx, 7); !errors.Is(err, ErrUnknownVersion) || errkind.ExitCode(err) != 2 {
		t.Fatalf("goto 7: %v", err)
	}
}

func TestFailedTransactionalMigrationLeavesVersionAndRerunsAfterFix(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	files := map[string]string{
		"001_init.up.sql": "CREATE TABLE t (id int);\n",
		"002_bad.up.sql":  "INSERT INTO t VALUES (1);\n\n-- the typo\nALTER TABLE t\n  ADD COLUMN x nosuchtype;\n",
	}
	dir := writeFiles(t, files)
	m := openPGT(t, raw, dir, Options{})
	res, err := m.Up(ctx, 0)
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("up: %v", err)
	}
	if se.File != "002_bad.up.sql" || se.Line != 5 || se.Index != 2 || !strings.Contains(err.Error(), "002_bad.up.sql:5") ||
		!strings.Contains(err.Error(), "ALTER TABLE t ADD COLUMN x nosuchtype") {
		t.Fatalf("error %q (%+v)", err, se)
	}
	if res.To != 1 {
		t.Fatalf("version after failure: %d", res.To)
	}
	if got := query(t, raw, "SELECT count(*)::text FROM t"); got != "0" {
		t.Fatalf("the failed file's insert was kept: %s rows", got)
	}
	st, _ := m.Status(ctx)
	if len(st.Unfinished) != 1 || st.Unfinished[0].FailedLine != 5 || !strings.Contains(st.Unfinished[0].FailedStatement, "nosuchtype") {
		t.Fatalf("unfinished: %+v", st.Unfinished)
	}
	// Fix and run again.
	os.WriteFile(filepath.Join(dir, "002_bad.up.sql"), []byte("INSERT INTO t VALUES (1);\nALTER TABLE t ADD COLUMN x text;\n"), 0o644)
	m2 := openPGT(t, raw, dir, Options{})
	if res, err = m2.Up(ctx, 0); err != nil || res.To != 2 {
		t.Fatalf("re-run: %+v %v", res, err)
	}
	if st, _ = m2.Status(ctx); len(st.Unfinished) != 0 {
		t.Fatalf("unfinished after fix: %+v", st.Unfinished)
	}
}

func TestNoTransactionMigrationResumesAtFailedStatement(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	files := map[string]string{
		"001_init.up.sql": "CREATE TABLE t (id int);\nCREATE TABLE log (n int);\n",
		"002_idx.up.sql": "-- tidemark:no-transaction\nINSERT INTO log VALUES (1);\n" +
			"CREATE INDEX CONCURRENTLY t_id ON t (nosuchcolumn);\nINSERT INTO log VALUES (3);\n",
	}
	dir := writeFiles(t, files)
	m := openPGT(t, raw, dir, Options{})
	if _, err := m.Up(ctx, 0); err == nil || !strings.Contains(err.Error(), "002_idx.up.sql:3") {
		t.Fatalf("up: %v", err)
	}
	st, _ := m.Status(ctx)
	if len(st.Unfinished) != 1 || st.Unfinished[0].StatementsDone != 1 || st.Unfinished[0].FailedIndex != 2 {
		t.Fatalf("unfinished: %+v", st.Unfinished)
	}
	os.WriteFile(filepath.Join(dir, "002_idx.up.sql"), []byte("-- tidemark:no-transaction\nINSERT INTO log VALUES (1);\n"+
		"CREATE INDEX CONCURRENTLY t_id ON t (id);\nINSERT INTO log VALUES (3);\n"), 0o644)
	m2 := openPGT(t, raw, dir, Options{})
	p, _ := m2.Plan(ctx, 0)
	if len(p.Steps) != 1 || p.Steps[0].ResumeFrom != 1 {
		t.Fatalf("plan: %+v", p)
	}
	res, err := m2.Up(ctx, 0)
	if err != nil || res.To != 2 || res.Steps[0].ResumedFrom != 1 {
		t.Fatalf("resume: %+v %v", res, err)
	}
	// Statement 1 ran once, not twice.
	if got := query(t, raw, "SELECT string_agg(n::text, ',' ORDER BY n) FROM log"); got != "1,3" {
		t.Fatalf("log = %s, want 1,3", got)
	}
}

func TestResumeRefusesEditedAppliedStatements(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	dir := writeFiles(t, map[string]string{
		"001_x.up.sql": "-- tidemark:no-transaction\nCREATE TABLE a (id int);\nSELECT 1/0;\n",
	})
	m := openPGT(t, raw, dir, Options{})
	if _, err := m.Up(ctx, 0); err == nil {
		t.Fatal("up succeeded")
	}
	os.WriteFile(filepath.Join(dir, "001_x.up.sql"), []byte("-- tidemark:no-transaction\nCREATE TABLE b (id int);\nSELECT 1;\n"), 0o644)
	m2 := openPGT(t, raw, dir, Options{})
	_, err := m2.Up(ctx, 0)
	if !errors.Is(err, ErrResume) || errkind.ExitCode(err) != 3 || !strings.Contains(err.Error(), "--allow-drift") {
		t.Fatalf("up after editing an applied statement: %v", err)
	}
}

func TestDriftStopsUpUnlessAllowed(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	dir := writeFiles(t, map[string]string{"001_a.up.sql": "CREATE TABLE a (id int);\n"})
	m := openPGT(t, raw, dir, Options{})
	if _, err := m.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "001_a.up.sql"), []byte("CREATE TABLE a (id bigint);\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "002_b.up.sql"), []byte("CREATE TABLE b (id int);\n"), 0o644)
	m2 := openPGT(t, raw, dir, Options{})
	st, _ := m2.Status(ctx)
	if len(st.Drift) != 1 || st.Drift[0].Problem != "edited" || st.Drift[0].Version != 1 {
		t.Fatalf("drift: %+v", st.Drift)
	}
	res, err := m2.Up(ctx, 0)
	if !errors.Is(err, ErrDrift) || errkind.ExitCode(err) != 3 || res.To != 1 || !strings.Contains(err.Error(), "001_a.up.sql") {
		t.Fatalf("up with drift: %+v %v", res, err)
	}
	m3 := openPGT(t, raw, dir, Options{AllowDrift: true})
	if res, err = m3.Up(ctx, 0); err != nil || res.To != 2 {
		t.Fatalf("up --allow-drift: %+v %v", res, err)
	}
}

// A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an INVALID index; the
// re-run after the fix drops it and builds the index for real instead of
// skipping it because of IF NOT EXISTS.
func TestConcurrentIndexFailureLeavesNoInvalidIndex(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	dir := writeFiles(t, map[string]string{
		"001_t.up.sql": "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1), (1), (2);\n",
		"002_u.up.sql": "-- tidemark:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n",
	})
	if _, err := openPGT(t, raw, dir, Options{}).Up(ctx, 0); err == nil || !strings.Contains(err.Error(), "002_u.up.sql:2") {
		t.Fatalf("up with duplicates: %v", err)
	}
	if got := query(t, raw, "SELECT count(*)::text FROM pg_index WHERE indexrelid = 't_id'::regclass AND NOT indisvalid"); got != "1" {
		t.Fatalf("expected PostgreSQL to leave an invalid index, got %s", got)
	}
	writeTo(t, dir, "002_u.up.sql", "-- tidemark:no-transaction\nDELETE FROM t a USING t b WHERE a.ctid < b.ctid AND a.id = b.id;\n"+
		"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n")
	if res, err := openPGT(t, raw, dir, Options{}).Up(ctx, 0); err != nil || res.To != 2 {
		t.Fatalf("re-run: %+v %v", res, err)
	}
	if got := query(t, raw, "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_id'::regclass"); got != "true" {
		t.Fatalf("index valid = %s", got)
	}
}
