// Package integration runs tidemark end to end against real servers: the
// demo story, fleet rollbacks, and a deploy rollback killed with SIGKILL and
// run again.
package integration

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures/env"
)

// bin holds the binaries built for the package: tidemark and the demo.
var bin struct{ dir, tidemark, demo string }

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("integration: end-to-end tests skipped with -short")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "tidemark-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.dir = dir
	bin.tidemark = filepath.Join(dir, "tidemark")
	bin.demo = filepath.Join(dir, "demo")
	for target, pkg := range map[string]string{bin.tidemark: "../cmd/tidemark", bin.demo: "../fixtures/cmd/demo"} {
		if out, err := exec.Command("go", "build", "-o", target, pkg).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := env.Run(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// result of one tidemark run.
type result struct {
	code           int
	stdout, stderr string
}

// tidemark runs the binary with extra environment variables.
func tidemark(t *testing.T, envv []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin.tidemark, args...)
	cmd.Env = append(append(os.Environ(), "TIDEMARK_LOG_LEVEL=warn"), envv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("tidemark %v: %v", args, err)
	}
	return r
}

func (r result) want(t *testing.T, code int) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	return r
}
