package expandcontract

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
)

// fingerprint describes everything a client of the old version can see in
// the catalog: tables, columns, defaults, comments, constraints, indexes,
// triggers, replica identity and the version schemas with their views.
func fingerprint(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var out string
	err := pool.QueryRow(context.Background(), `
SELECT concat_ws(E'\n',
 (SELECT string_agg(format('%s.%s %s nn=%s def=%s cmt=%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
         pg_get_expr(d.adbin, d.adrelid), col_description(c.oid, a.attnum)), E'\n' ORDER BY c.relname, a.attnum)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped),
 (SELECT string_agg(format('con %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid)), E'\n' ORDER BY conrelid::regclass::text, conname)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
 (SELECT string_agg(format('idx %s', indexdef), E'\n' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'),
 (SELECT string_agg(format('trg %s', tgname), E'\n' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
 (SELECT string_agg(format('ri %s %s cmt=%s', relname, relreplident, obj_description(oid, 'pg_class')), E'\n' ORDER BY relname)
  FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'),
 (SELECT string_agg(format('view %s.%s', schemaname, viewname), E'\n' ORDER BY schemaname, viewname) FROM pg_views WHERE schemaname LIKE 'public\_%'))`).Scan(&out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPgrollStyleChain runs a chain of 30+ migrations written the way
// pgroll's examples are (both spellings), each one expanded, rolled back
// (the catalog must be exactly as before), expanded again and contracted.
func TestPgrollStyleChain(t *testing.T) {
	files, _ := filepath.Glob("testdata/chain/*")
	sort.Strings(files)
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	for _, f := range files {
		m, err := ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		before := fingerprint(t, pool)
		if _, err := Expand(c, pool, []*Migration{m}, Options{Verify: true}); err != nil {
			t.Fatalf("%s: expand: %v", f, err)
		}
		if _, err := Rollback(c, pool, Options{}); err != nil {
			t.Fatalf("%s: rollback: %v", f, err)
		}
		if after := fingerprint(t, pool); after != before {
			t.Fatalf("%s: rollback did not restore the catalog:\n%s", f, lineDiff(before, after))
		}
		if _, err := Expand(c, pool, []*Migration{m}, Options{Verify: true}); err != nil {
			t.Fatalf("%s: expand again: %v", f, err)
		}
		if _, err := Contract(c, pool, Options{}); err != nil {
			t.Fatalf("%s: contract: %v", f, err)
		}
	}
	h := &hooks{t: t, url: url, version: "public_v28", ctx: c}
	h.eq("raw", `SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname LIKE 'public\_%'`, "public_31_tags_pk")
	h.version = "public_31_tags_pk"
	h.eq("new", `SELECT count(*) FROM bills WHERE total <> id * 100 AND id % 7 <> 0`, "0")
	h.eq("new", `SELECT count(*) FROM bills WHERE total = 0 AND id % 7 = 0`, "85")
	h.eq("new", `SELECT count(*) FROM events WHERE event_name LIKE 'placeholder %'`, "20")
	h.eq("new", `SELECT count(*) FROM customers WHERE tier = 'std'`, "300")
	h.noLeftovers()
}

func lineDiff(a, b string) string {
	as, bs := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(a, "\n") {
		as[l] = true
	}
	for _, l := range strings.Split(b, "\n") {
		bs[l] = true
	}
	var out []string
	for l := range as {
		if !bs[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range bs {
		if !as[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
