package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/pgbin"
)

func TestMain(m *testing.M) {
	testscript.Main(env.Runner(m), map[string]func(){
		"tidemark": func() {
			ctx, stop := signalContext(os.Stderr)
			code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
			stop()
			os.Exit(code)
		},
	})
}

// TestScripts runs the CLI scripts in testdata/script. Each script gets
// $PGURL, a fresh PostgreSQL database (password auth, so redaction is real),
// and $PGSERVER, the server's `postgres` database; scripts named mongo_*
// also get $MONGOURL, a fresh database on the embedded FerretDB.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: filepath.Join("testdata", "script"),
		Setup: func(e *testscript.Env) error {
			tb := e.T().(testing.TB)
			e.Setenv("PGURL", env.PostgresDB(tb))
			e.Setenv("PGSERVER", env.Server(tb).URL)
			if strings.HasPrefix(filepath.Base(tb.Name()), "mongo_") {
				e.Setenv("MONGOURL", env.MongoDB(tb))
			}
			if strings.HasPrefix(filepath.Base(tb.Name()), "snapshot_pitr_") {
				setupPITR(tb, e)
			}
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits},
	})
}

// setupPITR gives snapshot_pitr_* scripts their own cluster with WAL
// archiving: $PITRURL, $PITRARCHIVE, and $PITRDIR, a directory the postgres
// OS user can enter (for restore targets). Servers a script restored under
// $PITRDIR are stopped at the end.
func setupPITR(tb testing.TB, e *testscript.Env) {
	pg := env.OwnPostgres(tb, env.PGOptions{WALArchive: true})
	e.Setenv("PITRURL", pg.URL)
	e.Setenv("PITRARCHIVE", pg.ArchiveDir)
	e.Setenv("PITRDIR", pg.Dir)
	tb.Cleanup(func() {
		pids, _ := filepath.Glob(filepath.Join(pg.Dir, "*", "postmaster.pid"))
		for _, pid := range pids {
			if d := filepath.Dir(pid); d != filepath.Clean(pg.DataDir) {
				pgbin.Run(context.Background(), "pg_ctl", "stop", "-D", d, "-m", "immediate", "-w") //nolint:errcheck
			}
		}
	})
}

// cmdExits runs a command and checks its exit code: `exits 75 tidemark migrate up`.
// Its stdout and stderr are then checked with the usual stdout/stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE command [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}
