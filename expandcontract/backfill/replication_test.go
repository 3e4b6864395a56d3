package backfill_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/pgbin"
)

// startStandby makes a streaming standby of p with pg_basebackup and returns
// a connection to it; it is stopped when the test ends.
func startStandby(t *testing.T, p *env.Postgres) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(p.Dir, "standby")
	if _, err := pgbin.Run(ctx, "pg_basebackup", "-D", dir, "-R", "-X", "stream", "-d", p.URL); err != nil {
		t.Fatalf("pg_basebackup: %v", err)
	}
	port, err := env.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgbin.Run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", dir,
		"-l", filepath.Join(p.Dir, "standby.log"), "-o", fmt.Sprintf("-p %d", port)); err != nil {
		t.Fatalf("start standby: %v", err)
	}
	t.Cleanup(func() { pgbin.Run(context.Background(), "pg_ctl", "stop", "-m", "immediate", "-D", dir) }) //nolint:errcheck
	url := strings.Replace(p.URL, fmt.Sprintf(":%d/", p.Port), fmt.Sprintf(":%d/", port), 1)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// TestBacksOffWhileStandbyLags pauses replay on a real standby until its
// replay lag passes the bound: the backfill must wait, then finish once the
// standby catches up.
func TestBacksOffWhileStandbyLags(t *testing.T) {
	primary := env.OwnPostgres(t, env.PGOptions{Settings: map[string]string{"wal_level": "replica"}})
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, primary.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	standby := startStandby(t, primary)
	setupTable(t, pool, keyCases[0], 2000)
	if _, err := standby.Exec(ctx, `SELECT pg_wal_replay_pause()`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		exec(t, pool, `CREATE TABLE IF NOT EXISTS churn (x int)`, `INSERT INTO churn VALUES (1)`)
		return count(t, pool, `SELECT count(*) FROM pg_stat_replication WHERE replay_lag > interval '300ms'`) > 0
	})

	var logs bytes.Buffer
	var mu sync.Mutex
	opts := backfill.Options{MaxReplicationLag: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))}
	done := make(chan error, 1)
	go func() {
		_, err := backfill.Run(ctx, pool, backfill.Job{ID: "lag", Table: "t", Set: "nv = v * 100"}, opts)
		done <- err
	}()
	time.Sleep(1500 * time.Millisecond)
	if n := count(t, pool, `SELECT count(*) FROM t WHERE nv IS NOT NULL`); n != 0 {
		t.Errorf("%d rows updated while the standby lagged", n)
	}
	if _, err := standby.Exec(ctx, `SELECT pg_wal_replay_resume()`); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("backfill did not resume after the standby caught up")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "backfill paused") || !strings.Contains(logs.String(), "replication caught up") {
		t.Errorf("no pause/resume logged:\n%s", logs.String())
	}
	checkOnce(t, pool, 2000)
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
