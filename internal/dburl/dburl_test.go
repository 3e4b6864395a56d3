package dburl

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
)

func TestParseEngines(t *testing.T) {
	cases := map[string]Engine{
		"postgres://u:p@localhost:5432/db":             Postgres,
		"postgresql://u@localhost/db?sslmode=off":      Postgres,
		"pgx5://u@localhost/db":                        Postgres,
		"cockroachdb://root@localhost:26257/defaultdb": Cockroach,
		"mongodb://localhost:27017/inventory":          Mongo,
	}
	for raw, want := range cases {
		u, err := Parse(raw, "")
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		if u.Engine != want {
			t.Errorf("Parse(%q).Engine = %s, want %s", raw, u.Engine, want)
		}
	}
	u, err := Parse("postgres://root@h:26257/db", "cockroach")
	if err != nil || u.Engine != Cockroach {
		t.Fatalf("dialect override: %v %v", u, err)
	}
	if got := u.PGX(); !strings.HasPrefix(got, "postgres://") {
		t.Errorf("PGX() = %q", got)
	}
}

func TestParseErrorsAreUsageAndRedacted(t *testing.T) {
	for _, raw := range []string{"", "localhost:5432", "mysql://u:secret@h/db", "postgres://u:secret@h/db%zz"} {
		_, err := Parse(raw, "")
		if err == nil {
			t.Fatalf("Parse(%q) succeeded", raw)
		}
		if !errors.Is(err, errkind.ErrUsage) {
			t.Errorf("Parse(%q) error is not a usage error: %v", raw, err)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q) error leaks the password: %v", raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"postgres://app:s3cr3t@db:5432/orders":               "postgres://app:xxxxx@db:5432/orders",
		`failed to connect to "mongodb://a:b%40c@h/x": boom`: `failed to connect to "mongodb://a:xxxxx@h/x": boom`,
		"host=db password=hunter2 user=app":                  "host=db password=xxxxx user=app",
		"postgres://app@db/orders":                           "postgres://app@db/orders",
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (&URL{Raw: "postgres://u:pw@h/d"}).String(); strings.Contains(got, "pw") {
		t.Errorf("String() leaks: %s", got)
	}
}

func TestMalformedURLErrorHidesUserinfo(t *testing.T) {
	_, err := Parse("postgres//user:hunter2@nohost", "")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v", err)
	}
}
