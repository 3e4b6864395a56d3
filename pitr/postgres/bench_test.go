package postgres_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/pitr"
)

// Benchmarks run only with TIDEMARK_BENCH_SCALE=small|full (make bench).
func benchScale(b *testing.B) string {
	s := os.Getenv("TIDEMARK_BENCH_SCALE")
	if s == "" {
		b.Skip("set TIDEMARK_BENCH_SCALE=small or full to run benchmarks")
	}
	return s
}

func benchCluster(b *testing.B) (*env.Postgres, pitr.Provider, *pgx.Conn) {
	pg := env.OwnPostgres(b, env.PGOptions{WALArchive: true})
	u, _ := dburl.Parse(pg.URL, "")
	ctx := context.Background()
	p, err := pitr.Open(ctx, u, pitr.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close(ctx) })
	c, err := pgx.Connect(ctx, pg.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close(ctx) })
	return pg, p, c
}

func benchExec(b *testing.B, c *pgx.Conn, q string) {
	if _, err := c.Exec(context.Background(), q); err != nil {
		b.Fatalf("%s: %v", q, err)
	}
}

// BenchmarkCreateMarker: snapshot create (marker only) on an idle server and
// under a concurrent write load; reports the median total, the mark alone and
// the archive wait.
func BenchmarkCreateMarker(b *testing.B) {
	benchScale(b)
	for _, busy := range []bool{false, true} {
		name := map[bool]string{false: "idle", true: "busy"}[busy]
		b.Run(name, func(b *testing.B) {
			pg, p, c := benchCluster(b)
			ctx := context.Background()
			if _, err := p.Create(ctx, pitr.CreateOptions{Label: "base", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: filepath.Join(pg.Dir, "bk")}); err != nil {
				b.Fatal(err)
			}
			benchExec(b, c, `CREATE TABLE load(id bigserial PRIMARY KEY, pad text)`)
			stop := func() int64 { return 0 }
			if busy {
				stop = startLoad(b, pg.URL, 4)
			}
			loadStart := time.Now()
			var total, mark, wait []float64
			b.ResetTimer()
			for i := 0; i < 15*b.N; i++ {
				t0 := time.Now()
				m, err := p.Create(ctx, pitr.CreateOptions{Label: fmt.Sprintf("%s-%d-%d", name, b.N, i)})
				if err != nil {
					b.Fatal(err)
				}
				total = append(total, time.Since(t0).Seconds())
				mark = append(mark, m.Timings["preconditions"]+m.Timings["mark"])
				wait = append(wait, m.Timings["archive_wait"])
			}
			b.StopTimer()
			if n := stop(); n > 0 {
				b.ReportMetric(float64(n)/time.Since(loadStart).Seconds(), "load-rows/s")
			}
			b.ReportMetric(median(total)*1000, "ms/create")
			b.ReportMetric(median(mark)*1000, "ms-mark")
			b.ReportMetric(median(wait)*1000, "ms-archive-wait")
		})
	}
}

func median(v []float64) float64 {
	sort.Float64s(v)
	return v[len(v)/2]
}

// startLoad runs n connections inserting into load until stopped; stop
// returns the number of rows inserted.
func startLoad(b *testing.B, url string, n int) func() int64 {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var rows atomic.Int64
	for i := 0; i < n; i++ {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close(context.Background())
			for ctx.Err() == nil {
				if _, err := c.Exec(ctx, `INSERT INTO load(pad) SELECT repeat('x', 200) FROM generate_series(1, 50)`); err == nil {
					rows.Add(50)
				}
			}
		}()
	}
	return func() int64 { cancel(); wg.Wait(); return rows.Load() }
}

// BenchmarkTableSnapshot: a table snapshot (copy + checksum, into the
// snapshot schema or into COPY files) against COPY ... TO STDOUT of the same
// table, measured in the same run.
func BenchmarkTableSnapshot(b *testing.B) {
	rows := map[string]int{"small": 1_000_000, "full": 10_000_000}[benchScale(b)]
	pg, p, c := benchCluster(b)
	ctx := context.Background()
	if _, err := p.Create(ctx, pitr.CreateOptions{Label: "base", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: filepath.Join(pg.Dir, "bk")}); err != nil {
		b.Fatal(err)
	}
	benchExec(b, c, `CREATE TABLE orders(id bigint PRIMARY KEY, customer int, total numeric(12,2), status text, created timestamptz)`)
	benchExec(b, c, fmt.Sprintf(`INSERT INTO orders SELECT g, g %% 9973, (g %% 10000) / 100.0, 'paid', now() FROM generate_series(1, %d) g`, rows))
	benchExec(b, c, `VACUUM ANALYZE orders`)
	for _, mode := range []string{"schema", "file"} {
		b.Run(mode, func(b *testing.B) {
			t0 := time.Now()
			if _, err := c.PgConn().CopyTo(ctx, io.Discard, `COPY orders TO STDOUT`); err != nil {
				b.Fatal(err)
			}
			copySecs := time.Since(t0).Seconds()
			// a new label each run: create with an existing label returns the old manifest
			o := pitr.CreateOptions{Label: fmt.Sprintf("tables-%s-%d", mode, time.Now().UnixNano()), Tables: []string{"orders"}}
			if mode == "file" {
				o.TableDir = b.TempDir()
			}
			m, err := p.Create(ctx, o)
			if err != nil {
				b.Fatal(err)
			}
			snap := m.Timings["table_snapshot"]
			b.ReportMetric(float64(rows)/copySecs, "copy-rows/s")
			b.ReportMetric(float64(rows)/snap, "snapshot-rows/s")
			b.ReportMetric(copySecs/snap*100, "%-of-copy")
		})
	}
}

// BenchmarkClusterRestore: whole-cluster PITR restore of a cluster with
// data after the base backup, split into copy and WAL replay.
func BenchmarkClusterRestore(b *testing.B) {
	sizes := map[string][2]int{"small": {200, 50}, "full": {2000, 500}}[benchScale(b)] // MB data, MB WAL
	pg, p, c := benchCluster(b)
	ctx := context.Background()
	benchExec(b, c, `CREATE TABLE big(id bigint PRIMARY KEY, v int, pad text)`)
	// ~1 KB per row
	benchExec(b, c, fmt.Sprintf(`INSERT INTO big SELECT g, 0, repeat(md5(g::text), 30) FROM generate_series(1, %d) g`, sizes[0]*1000))
	benchExec(b, c, `CHECKPOINT`)
	if _, err := p.Create(ctx, pitr.CreateOptions{Label: "base", BaseBackup: pitr.BackupPGBaseBackup, BackupDir: filepath.Join(pg.Dir, "bk"), ArchiveWaitTimeout: 10 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	var start, end string
	c.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&start) //nolint:errcheck
	for i := 0; walMB(c, start) < float64(sizes[1]); i++ {
		benchExec(b, c, fmt.Sprintf(`INSERT INTO big SELECT g, 1, repeat(md5(g::text), 30) FROM generate_series(%d, %d) g`, 1e9+i*10000, 1e9+i*10000+9999))
	}
	wal := walMB(c, start)
	c.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&end) //nolint:errcheck
	if _, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy", ArchiveWaitTimeout: 10 * time.Minute}); err != nil {
		b.Fatal(err)
	}
	target := filepath.Join(pg.Dir, "restored")
	b.ResetTimer()
	res, err := p.Restore(ctx, "deploy", pitr.RestoreOptions{TargetDir: target})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	stopDir(target)
	var dbMB float64
	c.QueryRow(ctx, `SELECT pg_database_size(current_database()) / 1048576.0`).Scan(&dbMB) //nolint:errcheck
	b.ReportMetric(dbMB, "MB-db")
	b.ReportMetric(wal, "MB-wal")
	b.ReportMetric(res.Timings["copy"], "s-copy")
	b.ReportMetric(res.Timings["wal_replay"], "s-replay")
	b.ReportMetric(res.Timings["copy"]+res.Timings["wal_replay"], "s-total")
}

func walMB(c *pgx.Conn, from string) float64 {
	var mb float64
	c.QueryRow(context.Background(), `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) / 1048576.0`, from).Scan(&mb) //nolint:errcheck
	return mb
}
