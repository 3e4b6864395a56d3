package backfill_test

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

func TestDebugSizing(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://postgres@127.0.0.1:55432/postgres")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	exec2 := func(s string) {
		if _, err := pool.Exec(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	exec2(`DROP TABLE IF EXISTS bt`)
	exec2(`CREATE TABLE bt (LIKE src10 INCLUDING ALL)`)
	exec2(`INSERT INTO bt SELECT * FROM src10`)
	exec2(`ALTER TABLE bt ADD COLUMN c_new bigint`)
	exec2(`VACUUM ANALYZE bt`)
	exec2(`CHECKPOINT`)
	backfill.Reset(ctx, pool, "dbg")
	f, _ := os.Create("/tmp/dbg10.log")
	defer f.Close()
	res, err := backfill.Run(ctx, pool, backfill.Job{ID: "dbg", Table: "bt", Set: "c_new = c::bigint*100"},
		backfill.Options{Logger: slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	t.Log(res, err)
}
