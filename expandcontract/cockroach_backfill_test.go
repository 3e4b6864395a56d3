package expandcontract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
)

// TestCockroachBackfillSQLGolden pins every statement of the CockroachDB
// backfill (follower reads, a fixed AS OF SYSTEM TIME, and none; with a
// filter).
func TestCockroachBackfillSQLGolden(t *testing.T) {
	job := BackfillJob{ID: "v/backfill/items", Schema: "public", Table: "items", Set: `"_tm_new_price" = (price / 100.0)`}
	key := []KeyColumn{{"region", "text"}, {"id", "bigint"}}
	var b strings.Builder
	for _, asOf := range []string{"", "'-1s'", "-"} {
		st := Cockroach{AsOf: asOf}.backfillSQL(job, key)
		fmt.Fprintf(&b, "-- AsOf %q\n", asOf)
		for _, s := range []string{st.BoundFirst, st.BoundNext, st.UpdFirst, st.UpdFirstTo, st.UpdNext, st.UpdNextTo, st.SaveCursor, st.LoadCursor} {
			b.WriteString(s + ";\n")
		}
	}
	job.Filter = `"_tm_new_price" IS NULL`
	st := Cockroach{AsOf: "-"}.backfillSQL(job, key)
	b.WriteString("-- with a filter (rows not filled yet)\n")
	for _, s := range []string{st.UpdFirst, st.UpdFirstTo, st.UpdNext, st.UpdNextTo} {
		b.WriteString(s + ";\n")
	}
	b.WriteString("-- primary key\n" + primaryKeySQL + ";\n")
	const golden = "testdata/cockroach/backfill_sql.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil || string(want) != b.String() {
		t.Fatalf("backfill SQL differs from %s (%v); run with -update and review:\n%s", golden, err, b.String())
	}
}

// TestCockroachBackfillOnPostgres runs the CockroachDB backfill loop on
// PostgreSQL (no AS OF SYSTEM TIME there): injected 40001 errors are
// retried by crdb.ExecuteCtx around the whole batch transaction, an
// interrupted run resumes from its cursor, and every row is updated once.
func TestCockroachBackfillOnPostgres(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	c := ctx(t)
	mustExec(t, pool, `CREATE SEQUENCE tm_flaky;
CREATE FUNCTION flaky(v int) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF nextval('tm_flaky') IN (100, 1900, 2600, 4000) THEN
    RAISE EXCEPTION 'injected conflict' USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN 'x' || v;
END $$;
CREATE TABLE t (id bigint PRIMARY KEY, v int NOT NULL, n int NOT NULL DEFAULT 0, label text);
INSERT INTO t (id, v) SELECT g * 3, g FROM generate_series(1, 5000) g;`)
	d := Cockroach{AsOf: "-"}
	job := BackfillJob{ID: "test/backfill/t", Schema: "public", Table: "t", Set: `n = n + 1, label = flaky(v)`}

	stopAfter := 3
	cctx, cancel := context.WithCancel(c)
	var first CockroachBackfillProgress
	_, err := d.RunBackfill(cctx, pool, job, CockroachBackfillOptions{BatchRows: 300, OnProgress: func(p CockroachBackfillProgress) {
		first = p
		if p.Batches == int64(stopAfter) {
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) || first.Batches != int64(stopAfter) || first.Done {
		t.Fatalf("interrupted run: %+v %v", first, err)
	}
	p, err := d.RunBackfill(c, pool, job, CockroachBackfillOptions{BatchRows: 300})
	if err != nil || !p.Done {
		t.Fatalf("resumed run: %+v %v", p, err)
	}
	if p.Rows != 5000 {
		t.Errorf("cursor counts %d rows, want 5000", p.Rows)
	}
	if first.Retries+p.Retries == 0 {
		t.Errorf("no batch was retried: the injected 40001 errors were not seen")
	}
	var bad int
	if err := pool.QueryRow(c, `SELECT count(*) FROM t WHERE n <> 1 OR label IS DISTINCT FROM 'x' || v`).Scan(&bad); err != nil || bad != 0 {
		t.Fatalf("%d rows updated zero or several times (%v)", bad, err)
	}
	// A finished job does nothing when run again.
	again, err := d.RunBackfill(c, pool, job, CockroachBackfillOptions{})
	if err != nil || !again.Done || again.Batches != 0 {
		t.Fatalf("re-run of a finished job: %+v %v", again, err)
	}
	t.Logf("first run %+v, resumed %+v", first, p)
}

func TestDetectCockroachRefusesPostgres(t *testing.T) {
	pool := newPool(t, env.PostgresDB(t))
	_, err := DetectCockroach(ctx(t), pool)
	if !errors.Is(err, ErrNotCockroach) || !errors.Is(err, errkind.ErrUsage) {
		t.Fatalf("want ErrNotCockroach (usage), got %v", err)
	}
}
