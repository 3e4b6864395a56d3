package migrator

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // baseline driver (pgx5://)
	_ "github.com/golang-migrate/migrate/v4/source/file"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
)

// BenchmarkUp applies N generated migrations (small: 200, full: 1000), each
// a CREATE TABLE, an INSERT of 100 rows and a CREATE INDEX, with tidemark,
// then the same files with golang-migrate's pgx5 driver on another fresh
// database as the baseline. Reports migrations/s for both and the ratio.
func BenchmarkUp(b *testing.B) {
	n := map[string]int{"small": 200, "full": 1000}[os.Getenv("TIDEMARK_BENCH_SCALE")]
	if n == 0 {
		b.Skip("set TIDEMARK_BENCH_SCALE=small or full to run benchmarks")
	}
	dir := b.TempDir()
	for i := 1; i <= n; i++ {
		body := fmt.Sprintf("CREATE TABLE t%[1]d (id int PRIMARY KEY, v text);\n"+
			"INSERT INTO t%[1]d SELECT g, md5(g::text) FROM generate_series(1, 100) g;\n"+
			"CREATE INDEX t%[1]d_v ON t%[1]d (v);\n", i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%04d_t%d.up.sql", i, i)), []byte(body), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	var ours, base time.Duration
	runs := 0
	for b.Loop() {
		// Alternate the order so neither side always runs on a warmer server.
		first, second := &ours, &base
		fns := []func() error{func() error { return upTidemark(ctx, b, dir) }, func() error { return upGolangMigrate(b, dir) }}
		if runs%2 == 1 {
			first, second = second, first
			fns[0], fns[1] = fns[1], fns[0]
		}
		*first += timeIt(b, fns[0])
		*second += timeIt(b, fns[1])
		runs++
	}
	b.ReportMetric(float64(n*runs)/ours.Seconds(), "migrations/s")
	b.ReportMetric(float64(n*runs)/base.Seconds(), "baseline-migrations/s")
	b.ReportMetric(base.Seconds()/ours.Seconds(), "speed-vs-baseline")
}

func upTidemark(ctx context.Context, b *testing.B, dir string) error {
	u, _ := dburl.Parse(env.PostgresDB(b), "")
	m, err := Open(ctx, u, Options{Source: dir})
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	_, err = m.Up(ctx, 0)
	return err
}

func upGolangMigrate(b *testing.B, dir string) error {
	u, _ := dburl.Parse(env.PostgresDB(b), "")
	gm, err := migrate.New("file://"+dir, u.WithScheme("pgx5"))
	if err != nil {
		return err
	}
	defer gm.Close()
	return gm.Up()
}

func timeIt(b *testing.B, fn func() error) time.Duration {
	start := time.Now()
	if err := fn(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
