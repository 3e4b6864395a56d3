package expandcontract

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/fixtures/env"
)

// TestWritesAheadOfTheBackfillAreKept: clients of both versions write rows
// the backfill has not reached yet (right after its first batch). A
// new-version UPDATE that leaves the changed column alone must not turn the
// old column into down(NULL); values the new version wrote must survive the
// backfill passing over them; an old-version write still recomputes up.
// up/down (a*10, a/10 rounded down, written (a - a % 10) / 10 because
// CockroachDB's INT / INT is a DECIMAL) do not invert each other, so a
// backfill that recomputed a new-version value would show.
func TestWritesAheadOfTheBackfillAreKept(t *testing.T) {
	url := env.PostgresDB(t)
	writesAheadOfTheBackfill(t, url, newPool(t, url), Options{})
}

// The same through the CockroachDB dialect with triggers (v24.3+): its
// trigger function (IS DISTINCT FROM instead of record_image_eq) and its
// own backfill runner, on PostgreSQL.
func TestCockroachWritesAheadOfTheBackfillAreKeptOnPostgres(t *testing.T) {
	url := env.PostgresDB(t)
	d := Cockroach{Version: CockroachVersion{Major: 24, Minor: 3}, AsOf: "-", noJobWaits: true}
	writesAheadOfTheBackfill(t, url, newPool(t, url), Options{Dialect: d})
}

func writesAheadOfTheBackfill(t *testing.T, url string, pool *pgxpool.Pool, opts Options) {
	mustExec(t, pool, `CREATE TABLE acct (id bigint PRIMARY KEY, a int NOT NULL, b text);
		INSERT INTO acct SELECT g, g, 'x' FROM generate_series(1, 5000) g`)
	m := mig(t, "m1", `
operations:
  - alter_column: {table: acct, column: a, type: bigint, up: a * 10, down: (a - a % 10) / 10}
  - add_column: {table: acct, up: id * 2, column: {name: c, type: int, default: '0'}}`)
	h := &hooks{t: t, url: url, version: "public_m1", ctx: context.Background()}
	first := true
	opts.OnProgress = func(table string, p backfill.Progress) {
		if !first || p.Done {
			return
		}
		first = false
		if p.Rows >= 4000 {
			t.Errorf("the first batch already did %d rows", p.Rows)
		}
		h.on("new", `UPDATE acct SET b = 'new' WHERE id = 5000`)
		h.on("new", `UPDATE acct SET a = 75, c = -1 WHERE id = 4999`)
		h.on("old", `UPDATE acct SET b = 'old' WHERE id = 4998`)
		h.on("old", `UPDATE acct SET a = 4 WHERE id = 4997`)
	}
	if _, err := Expand(context.Background(), pool, []*Migration{m}, opts); err != nil {
		t.Fatal(err)
	}
	if first {
		t.Fatal("the backfill reported no batch")
	}
	for _, c := range []struct{ ver, sql, want string }{
		{"new", `SELECT a::TEXT || '/' || c::TEXT || '/' || b FROM acct WHERE id = 5000`, "50000/10000/new"},
		{"old", `SELECT a::TEXT || '/' || b FROM acct WHERE id = 5000`, "5000/new"},
		{"new", `SELECT a::TEXT || '/' || c::TEXT FROM acct WHERE id = 4999`, "75/-1"},
		{"old", `SELECT a FROM acct WHERE id = 4999`, "7"},
		{"new", `SELECT a::TEXT || '/' || c::TEXT || '/' || b FROM acct WHERE id = 4998`, "49980/9996/old"},
		{"new", `SELECT a::TEXT || '/' || c::TEXT FROM acct WHERE id = 4997`, "40/9994"},
		{"new", `SELECT a::TEXT || '/' || c::TEXT FROM acct WHERE id = 1`, "10/2"},
		{"new", `SELECT count(*) FROM acct WHERE a IS NULL OR c IS NULL`, "0"},
		{"new", `SELECT count(*) FROM acct WHERE a <> (SELECT o.a FROM public.acct o WHERE o.id = acct.id) * 10 AND id <> 4999`, "0"},
	} {
		h.eq(c.ver, c.sql, c.want)
	}
}
