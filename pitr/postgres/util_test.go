package postgres_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidemark/tidemark/internal/pgbin"
)

func replacePort(raw string, port int) string {
	u, _ := url.Parse(raw)
	u.Host = fmt.Sprintf("127.0.0.1:%d", port)
	return u.String()
}

func stopDir(dir string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pgbin.Run(ctx, "pg_ctl", "stop", "-D", dir, "-m", "immediate", "-w") //nolint:errcheck
}

// scratchDir is a temp dir the postgres OS user can enter.
func scratchDir(t *testing.T) string {
	d := t.TempDir()
	for _, x := range []string{filepath.Dir(d), d} {
		if err := os.Chmod(x, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return d
}
