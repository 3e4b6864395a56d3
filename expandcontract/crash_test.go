package expandcontract

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
)

const crashSetup = `CREATE TABLE items (id bigserial PRIMARY KEY, price int NOT NULL, name text NOT NULL);
INSERT INTO items (price, name) SELECT g * 100, 'n' || g FROM generate_series(1, 2000) g;`

const crashMigration = `
operations:
  - alter_column:
      table: items
      column: price
      type: numeric(12,2)
      up: price / 100.0
      down: (price * 100)::int
  - add_column:
      table: items
      up: "'c' || id"
      column: {name: code, type: text, unique: true}
  - rename_column: {table: items, from: name, to: title}
  - create_index: {name: items_title_idx, table: items, columns: [title]}
  - create_table:
      name: tags
      columns: [{name: id, type: serial, pk: true}, {name: item_id, type: bigint, references: {table: items, column: id}}]
`

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// buildCLI builds tidemark with the crash hooks (-tags tidemark_testhooks).
func buildCLI(t *testing.T) string {
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tidemark-cli")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "tidemark")
		out, err := exec.Command("go", "build", "-tags", "tidemark_testhooks", "-o", cliPath, "../cmd/tidemark").CombinedOutput()
		if err != nil {
			cliErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cliErr != nil {
		t.Fatal(cliErr)
	}
	return cliPath
}

type crashRun struct {
	t   *testing.T
	bin string
	url string
}

// run runs the CLI; with crashAt set, it must die by SIGKILL there.
func (r *crashRun) run(crashAt string, args ...string) {
	r.t.Helper()
	cmd := exec.Command(r.bin, append([]string{"--database", r.url, "--log-level", "error"}, args...)...)
	cmd.Env = append(os.Environ(), "TIDEMARK_TEST_CRASH_AT="+crashAt)
	out, err := cmd.CombinedOutput()
	if crashAt == "" {
		if err != nil {
			r.t.Fatalf("tidemark %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		r.t.Fatalf("tidemark %s with crash at %s: want SIGKILL, got %v\n%s", strings.Join(args, " "), crashAt, err, out)
	}
}

// crashPlan is the plan of migration (named m1) on a fresh database made by setup.
func crashPlan(t *testing.T, setup, migration string) *Plan {
	t.Helper()
	pool := newPool(t, env.PostgresDB(t))
	mustExec(t, pool, setup)
	plan, err := PlanExpand(ctx(t), pool, []*Migration{mig(t, "m1", migration)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// runCrashCases runs run once per crash point: an expand crash twice, then
// finished by contract and by rollback; a contract or rollback crash once,
// finished by the same command. It returns the number of cases.
func runCrashCases(t *testing.T, points []string, run func(t *testing.T, point, end string)) int {
	n := 0
	for _, p := range points {
		end := strings.SplitN(p, ":", 2)[0]
		if end == "expand" {
			n += 2
			t.Run(p+"/then-contract", func(t *testing.T) { run(t, p, "contract") })
			t.Run(p+"/then-rollback", func(t *testing.T) { run(t, p, "rollback") })
			continue
		}
		n++
		t.Run(p, func(t *testing.T) { run(t, p, end) })
	}
	return n
}

func crashPoints(t *testing.T) (expand, contract, rollback []string) {
	t.Helper()
	plan := crashPlan(t, crashSetup, crashMigration)
	// after each action; inside the backfill after batches; and where an
	// action outside a transaction (index builds, the backfill) has done its
	// work but is not recorded yet
	points := func(phase string, as []Action) (out []string) {
		for _, a := range as {
			out = append(out, phase+":"+a.ID)
			if a.Backfill != nil {
				out = append(out, phase+":"+a.ID+"#1", phase+":"+a.ID+"#2")
			}
			if a.Backfill != nil || a.NoTx {
				out = append(out, phase+":"+a.ID+"/unrecorded")
			}
		}
		return out
	}
	return points("expand", plan.Expand), points("contract", plan.Contract), points("rollback", plan.Rollback)
}

// TestCrashResume kills a child tidemark with SIGKILL after every action of
// every phase (and inside the backfill), runs the same command again and
// checks the data: expand crashes are finished by expand (then contract)
// and also by rollback instead.
func TestCrashResume(t *testing.T) {
	bin := buildCLI(t)
	expand, contract, rollback := crashPoints(t)
	total := runCrashCases(t, slices.Concat(expand, contract, rollback), func(t *testing.T, p, end string) { crashCase(t, bin, p, end) })
	if total < 20 {
		t.Fatalf("only %d crash points", total)
	}
	t.Logf("%d crash points", total)
}

// newCrashCase gives a crash case a fresh database made by setup and the
// migration (named m1) in a file: the runner of the CLI, the hooks on the
// database and the arguments of the expand.
func newCrashCase(t *testing.T, bin, setup, migration string) (*crashRun, *hooks, []string) {
	url := env.PostgresDB(t)
	mustExec(t, newPool(t, url), setup)
	file := filepath.Join(t.TempDir(), "m1.yaml")
	if err := os.WriteFile(file, []byte(migration), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &crashRun{t: t, bin: bin, url: url}
	h := &hooks{t: t, url: url, version: "public_m1", ctx: ctx(t)}
	return r, h, []string{"expand", file, "--batch-target", "1ms"}
}

func crashCase(t *testing.T, bin, point, end string) {
	t.Parallel()
	r, h, expandArgs := newCrashCase(t, bin, crashSetup, crashMigration)
	if strings.HasPrefix(point, "expand:") {
		r.run(point, expandArgs...)
		h.on("old", `INSERT INTO items (id, price, name) VALUES (90001, 9000100, 'n90001')`)
		if end == "contract" {
			r.run("", expandArgs...) // the same command again finishes the expand
		}
		r.run("", end)
	} else {
		r.run("", expandArgs...)
		h.on("old", `INSERT INTO items (id, price, name) VALUES (90001, 9000100, 'n90001')`)
		r.run(point, end)
		r.run("", end) // the same command again finishes it
	}
	h.noLeftovers()
	h.eq("old", `SELECT count(*) FROM items`, "2001")
	if end == "rollback" {
		h.eq("raw", `SELECT count(*) FROM pg_namespace WHERE nspname = 'public_m1'`, "0")
		h.eq("old", `SELECT count(*) FROM items WHERE price <> id * 100 OR name <> 'n' || id`, "0")
		h.eq("raw", `SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped`, "id,price,name")
		h.eq("raw", `SELECT coalesce(to_regclass('tags')::text, 'none') || ' ' || coalesce(to_regclass('items_title_idx')::text, 'none')`, "none none")
		return
	}
	h.eq("new", `SELECT count(*) FROM items WHERE price <> id OR title <> 'n' || id OR code <> 'c' || id`, "0")
	h.eq("raw", `SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE i.relname IN ('items_title_idx', 'items_code_key') AND x.indisvalid`, "2")
}
