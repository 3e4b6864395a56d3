package reconcile

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/dburl"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The statements tidemark wraps around a source's SELECT, per dialect.
func TestSQLBuilderGolden(t *testing.T) {
	src := &Source{Name: "lines", SQL: "SELECT order_id, sku, qty FROM lines", Batch: 500,
		Key: []KeyColumn{{Name: "order_id", Type: KeyUUID}, {Name: "sku", Type: KeyText}}}
	for _, e := range []dburl.Engine{dburl.Postgres, dburl.Cockroach} {
		d := sqlDialect{engine: e}
		begin, take := d.TakeSnapshot()
		var b strings.Builder
		for _, line := range []string{
			"-- take snapshot", begin, take,
			"-- join snapshot", strings.Join(d.BeginSnapshot("SNAP"), ";\n"),
			"-- first page", d.Page(src, false, false, 500),
			"-- page from a key, below hi", d.Page(src, true, true, 500),
			"-- lookup", d.Lookup(src),
			"-- count", d.Count(src),
			"-- key sample", d.Sample(src),
		} {
			if line != "" {
				b.WriteString(line + "\n")
			}
		}
		golden(t, filepath.Join("testdata", "sql_"+string(e)+".golden"), b.String())
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n%s", path, got)
	}
}
