package expandcontract

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
)

// TestSeveralMigrationsAndVersions: two files expand as one version; a
// second deploy's old version is the first one's schema, dropped at contract.
func TestSeveralMigrationsAndVersions(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup)
	a := mig(t, "a_add", `operations: [{add_column: {table: users, up: "'x'", column: {name: tag, type: text}}}]`)
	b := mig(t, "b_rename", `operations: [{rename_column: {table: users, from: email, to: mail}}]`)
	res, err := Expand(c, pool, []*Migration{a, b}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.VersionSchema != "public_b_rename" || len(res.Migrations) != 2 {
		t.Fatalf("result %+v", res)
	}
	h := &hooks{t: t, url: url, version: "public_b_rename", ctx: c}
	h.eq("new", `SELECT tag || ' ' || mail FROM users WHERE id = 1`, "x u1@x")
	st, err := Status(c, pool)
	if err != nil || len(st.Versions) != 1 || st.Versions[0].Phase != PhaseExpanded || len(st.Versions[0].Migrations) != 2 {
		t.Fatalf("status %+v %v", st, err)
	}
	if len(st.Versions[0].Backfills) != 1 || !st.Versions[0].Backfills[0].Done || st.Versions[0].Backfills[0].Rows != 50 {
		t.Errorf("backfill status %+v", st.Versions[0].Backfills)
	}
	if _, err := Contract(c, pool, Options{}); err != nil {
		t.Fatal(err)
	}
	// second deploy: old version is public_b_rename
	m2 := mig(t, "m2", `operations: [{drop_column: {table: users, column: tag}}]`)
	res, err = Expand(c, pool, []*Migration{m2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldSchema != "public_b_rename" {
		t.Fatalf("old schema %q", res.OldSchema)
	}
	h.eq("new", `SELECT tag FROM users WHERE id = 1`, "x") // old version still works
	h.version = "public_m2"
	h.fails("new", `SELECT tag FROM users`, "does not exist")
	if _, err := Contract(c, pool, Options{}); err != nil {
		t.Fatal(err)
	}
	h.eq("raw", `SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'public\_%'`, "public_m2")
	h.eq("new", `SELECT mail FROM users WHERE id = 2`, "u2@x")
}

// TestDrainCheck: contract refuses (ErrPrecondition, sessions named) while
// a client of the old version is connected, by application_name or by a
// role whose search_path is the version; passes once they are gone.
func TestDrainCheck(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup)
	if _, err := Expand(c, pool, []*Migration{mig(t, "m1", `operations: [{rename_column: {table: users, from: name, to: full_name}}]`)}, Options{}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := pgx.ParseConfig(url)
	cfg.RuntimeParams["application_name"] = "orders-v1@public"
	client, err := pgx.ConnectConfig(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Contract(c, pool, Options{})
	var de *DrainError
	if !errors.As(err, &de) || errkind.ExitCode(err) != errkind.ExitPrecondition || len(de.Sessions) != 1 || de.Sessions[0].Application != "orders-v1@public" {
		t.Fatalf("contract with a session on the old version: %v", err)
	}
	// rollback drains the new version: a role pinned to it blocks
	mustExec(t, pool, `CREATE ROLE app_v2 LOGIN PASSWORD 'pw2'; GRANT ALL ON SCHEMA public, public_m1 TO app_v2; ALTER ROLE app_v2 SET search_path = public_m1`)
	cfg2, _ := pgx.ParseConfig(url)
	cfg2.User, cfg2.Password = "app_v2", "pw2"
	v2, err := pgx.ConnectConfig(c, cfg2)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Rollback(c, pool, Options{})
	if !errors.As(err, &de) || de.Sessions[0].Via != "role search_path" || de.Sessions[0].User != "app_v2" {
		t.Fatalf("rollback with a session on the new version: %v", err)
	}
	v2.Close(c)
	// --drain-timeout waits for the old client to leave
	go func() { time.Sleep(700 * time.Millisecond); client.Close(context.Background()) }()
	res, err := Contract(c, pool, Options{DrainTimeout: 20 * time.Second})
	if err != nil || res.Phase != PhaseContracted {
		t.Fatalf("contract after the client left: %+v %v", res, err)
	}
	mustExec(t, pool, `DROP OWNED BY app_v2; DROP ROLE app_v2`)
}

// TestVerifyReportsMismatches: rows where new != up(old) are reported
// (exit 4) and contract refuses before dropping anything.
func TestVerifyReportsMismatches(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup)
	m := mig(t, "m1", `
operations:
  - alter_column: {table: users, column: age, type: bigint, up: "age * 2", down: "age / 2"}`)
	if _, err := Expand(c, pool, []*Migration{m}, Options{Verify: true}); err != nil {
		t.Fatal(err)
	}
	h := &hooks{t: t, url: url, version: "public_m1", ctx: c}
	h.on("new", `INSERT INTO users (name, age) VALUES ('odd', 7)`) // down(7) = 3, up(3) = 6 != 7
	_, err := Expand(c, pool, []*Migration{m}, Options{Verify: true})
	var ve *VerifyError
	if !errors.As(err, &ve) || errkind.ExitCode(err) != errkind.ExitProblems || ve.Report.Mismatches != 1 || ve.Report.Samples[0].Got != "7" || ve.Report.Samples[0].Expected != "6" {
		t.Fatalf("verify: %v", err)
	}
	if _, err := Contract(c, pool, Options{}); !errors.As(err, &ve) {
		t.Fatalf("contract: %v", err)
	}
	h.eq("new", `SELECT age FROM users WHERE name = 'odd'`, "7")
	if _, err := Contract(c, pool, Options{SkipVerify: true}); err != nil {
		t.Fatal(err)
	}
}

// TestLockTimeoutRetries: a DDL blocked by a long transaction gives up its
// lock wait after lock_timeout, retries, and fails with ErrTemporary at the
// deadline, leaving nothing half done; it succeeds once the blocker ends.
func TestLockTimeoutRetries(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup)
	blocker, err := pgx.Connect(c, url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := blocker.Begin(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(c, `LOCK TABLE users IN ACCESS SHARE MODE`); err != nil {
		t.Fatal(err)
	}
	m := mig(t, "m1", `operations: [{add_column: {table: users, column: {name: x, type: int, nullable: true}}}]`)
	// a writer must never wait longer than the lock timeout behind tidemark
	start := time.Now()
	_, err = Expand(c, pool, []*Migration{m}, Options{LockTimeout: 100 * time.Millisecond, DDLDeadline: 1500 * time.Millisecond})
	if !errors.Is(err, ErrLockTimeout) || errkind.ExitCode(err) != errkind.ExitTemporary {
		t.Fatalf("expand behind a lock: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	go func() {
		time.Sleep(500 * time.Millisecond)
		tx.Rollback(context.Background())
		blocker.Close(context.Background())
	}()
	if _, err := Expand(c, pool, []*Migration{m}, Options{LockTimeout: 100 * time.Millisecond, DDLDeadline: 30 * time.Second}); err != nil {
		t.Fatalf("expand after the blocker ended: %v", err)
	}
}

// TestInvalidIndexRebuilt: a unique index build that fails (duplicates)
// leaves an INVALID index; once the data is fixed, running expand again
// drops it and builds it again.
func TestInvalidIndexRebuilt(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup+`UPDATE users SET email = 'dup@x' WHERE id IN (1, 2);`)
	m := mig(t, "m1", `operations: [{create_index: {name: users_email_uq, table: users, columns: [email], unique: true}}]`)
	if _, err := Expand(c, pool, []*Migration{m}, Options{}); err == nil || !strings.Contains(err.Error(), "could not create unique index") {
		t.Fatalf("expand over duplicates: %v", err)
	}
	h := &hooks{t: t, url: url, version: "public_m1", ctx: c}
	h.eq("raw", `SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_uq'::regclass`, "false")
	mustExec(t, pool, `UPDATE users SET email = 'u2@x' WHERE id = 2`)
	res, err := Expand(c, pool, []*Migration{m}, Options{})
	if err != nil || !res.Resumed {
		t.Fatalf("expand again: %+v %v", res, err)
	}
	h.eq("raw", `SELECT indisvalid FROM pg_index WHERE indexrelid = 'users_email_uq'::regclass`, "true")
	if _, err := Contract(c, pool, Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentRunsRefused: a second run while one holds the schema's
// expand/contract lock fails with ErrBusy (exit 75: run it again later).
func TestConcurrentRunsRefused(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, usersSetup)
	unlock, err := lockRun(c, pool, "public")
	if err != nil {
		t.Fatal(err)
	}
	other := newPool(t, url)
	_, err = Expand(c, other, []*Migration{mig(t, "m1", `operations: [{drop_table: {name: users}}]`)}, Options{})
	if !errors.Is(err, ErrBusy) || errkind.ExitCode(err) != errkind.ExitTemporary {
		t.Fatalf("second run: %v", err)
	}
	unlock()
	if _, err := Expand(c, other, []*Migration{mig(t, "m1", `operations: [{drop_table: {name: users}}]`)}, Options{}); err != nil {
		t.Fatalf("after the first run ended: %v", err)
	}
}
