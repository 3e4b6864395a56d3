package expandcontract

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
)

// opCase is one operation's lifecycle test: the hooks read and write
// through both version schemas (old: "public", new: "public_<name>").
type opCase struct {
	name          string
	setup         string
	migration     string
	afterExpand   func(h *hooks)
	afterContract func(h *hooks)
	afterRollback func(h *hooks)
}

type hooks struct {
	t       *testing.T
	url     string
	version string
	ctx     context.Context
}

// on runs SQL as a client of the old ("old") or new ("new") version, or
// with the plain search_path ("raw"); it returns the first column of the
// first row as text ("" when no row).
func (h *hooks) on(ver, sql string, args ...any) string {
	h.t.Helper()
	s, err := h.try(ver, sql, args...)
	if err != nil {
		h.t.Fatalf("%s: %s: %v", ver, sql, err)
	}
	return s
}

func (h *hooks) try(ver, sql string, args ...any) (string, error) {
	cfg, err := pgx.ParseConfig(h.url)
	if err != nil {
		return "", err
	}
	switch ver {
	case "new":
		cfg.RuntimeParams["search_path"] = h.version
	default:
		cfg.RuntimeParams["search_path"] = "public"
	}
	conn, err := pgx.ConnectConfig(h.ctx, cfg)
	if err != nil {
		return "", err
	}
	defer conn.Close(h.ctx)
	rows, err := conn.Query(h.ctx, sql, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	out := ""
	if rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", err
		}
		if len(vals) > 0 && vals[0] != nil {
			out = toText(vals[0])
		}
	}
	for rows.Next() {
	}
	return out, rows.Err()
}

func (h *hooks) eq(ver, sql, want string) {
	h.t.Helper()
	if got := h.on(ver, sql); got != want {
		h.t.Errorf("%s: %s = %q, want %q", ver, sql, got, want)
	}
}

func (h *hooks) fails(ver, sql, wantErr string) {
	h.t.Helper()
	_, err := h.try(ver, sql)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		h.t.Errorf("%s: %s: error %v, want one containing %q", ver, sql, err, wantErr)
	}
}

// noLeftovers checks that no _tm_ column, trigger or function remains.
func (h *hooks) noLeftovers() {
	h.t.Helper()
	h.eq("raw", `SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attname LIKE '\_tm\_%' AND NOT a.attisdropped`, "0")
	h.eq("raw", `SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\_tm\_%'`, "0")
	h.eq("raw", `SELECT count(*) FROM pg_proc WHERE proname LIKE '\_tm\_%'`, "0")
	h.eq("raw", `SELECT count(*) FROM pg_constraint WHERE conname LIKE '\_tm\_%'`, "0")
}

func runOpCases(t *testing.T, cases []opCase) {
	for _, tc := range cases {
		for _, end := range []string{"contract", "rollback"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				runOpCase(t, tc, end)
			})
		}
	}
}

func runOpCase(t *testing.T, tc opCase, end string) {
	t.Parallel()
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	if tc.setup != "" {
		mustExec(t, pool, tc.setup)
	}
	m := mig(t, "m1", tc.migration)
	h := &hooks{t: t, url: url, version: "public_" + m.Name, ctx: c}
	if _, err := Expand(c, pool, []*Migration{m}, Options{Verify: true}); err != nil {
		t.Fatalf("expand: %v", err)
	}
	if tc.afterExpand != nil {
		tc.afterExpand(h)
	}
	if end == "contract" {
		if _, err := Contract(c, pool, Options{SkipVerify: true}); err != nil {
			t.Fatalf("contract: %v", err)
		}
		h.noLeftovers()
		if tc.afterContract != nil {
			tc.afterContract(h)
		}
		return
	}
	if _, err := Rollback(c, pool, Options{}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	h.noLeftovers()
	h.eq("raw", `SELECT count(*) FROM pg_namespace WHERE nspname = '`+h.version+`'`, "0")
	if tc.afterRollback != nil {
		tc.afterRollback(h)
	}
}
