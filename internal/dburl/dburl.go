// Package dburl parses the database URLs users type, tells which engine they
// name, and redacts passwords from URLs and from any text that may contain one
// (error messages included).
package dburl

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Engine is a database engine tidemark supports.
type Engine string

const (
	Postgres  Engine = "postgres"
	Cockroach Engine = "cockroach"
	Mongo     Engine = "mongodb"
)

// URL is a parsed database URL.
type URL struct {
	Engine Engine
	// Raw is the URL as given (with its password). Never print it; use String.
	Raw string
	u   *url.URL
}

// Parse accepts postgres://, postgresql://, pgx5://, cockroachdb://, cockroach://,
// mongodb:// and mongodb+srv:// URLs. dialect ("", "postgres", "cockroach")
// overrides the engine of a PostgreSQL-wire URL.
func Parse(raw, dialect string) (*URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errkind.Usagef("no database URL: set --database or DATABASE_URL")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" && !strings.Contains(raw, "host=") {
		return nil, errkind.Usagef("malformed database URL %q: want scheme://user@host:port/dbname", redactMalformed(raw))
	}
	e, err := engineOf(u.Scheme)
	if err != nil {
		return nil, err
	}
	switch dialect {
	case "", "auto":
	case "postgres", "postgresql":
		if e == Mongo {
			return nil, errkind.Usagef("--dialect %s does not apply to a %s URL", dialect, u.Scheme)
		}
		e = Postgres
	case "cockroach", "cockroachdb":
		if e == Mongo {
			return nil, errkind.Usagef("--dialect %s does not apply to a %s URL", dialect, u.Scheme)
		}
		e = Cockroach
	default:
		return nil, errkind.Usagef("unknown --dialect %q: want postgres or cockroach", dialect)
	}
	return &URL{Engine: e, Raw: raw, u: u}, nil
}

func engineOf(scheme string) (Engine, error) {
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql", "pgx", "pgx5":
		return Postgres, nil
	case "cockroach", "cockroachdb", "crdb-postgres":
		return Cockroach, nil
	case "mongodb", "mongodb+srv":
		return Mongo, nil
	}
	return "", errkind.Usagef("unsupported database URL scheme %q: want postgres://, cockroachdb:// or mongodb://", scheme)
}

// String returns the URL with its password replaced by "xxxxx".
func (u *URL) String() string { return Redact(u.Raw) }

// Database returns the database name in the URL path.
func (u *URL) Database() string { return strings.TrimPrefix(u.u.Path, "/") }

// PGX returns a postgres:// URL pgx accepts (for PostgreSQL and CockroachDB).
func (u *URL) PGX() string {
	c := *u.u
	c.Scheme = "postgres"
	return c.String()
}

// WithScheme returns the URL with another scheme (e.g. "pgx5" for golang-migrate).
func (u *URL) WithScheme(scheme string) string {
	c := *u.u
	c.Scheme = scheme
	return c.String()
}

// Host returns host:port.
func (u *URL) Host() string { return u.u.Host }

// User returns the user name, if any.
func (u *URL) User() string { return u.u.User.Username() }

// Password returns the password, if any (for drivers; never print it).
func (u *URL) Password() string {
	p, _ := u.u.User.Password()
	return p
}

var (
	userinfoRE = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s"']*):([^@\s"']*)@`)
	keywordRE  = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|[^\s&"']+)`)
)

// Redact replaces every password in s (URL userinfo, password=... keywords)
// with "xxxxx". It is safe to run over any text: error messages, logs, JSON.
func Redact(s string) string {
	s = userinfoRE.ReplaceAllString(s, "${1}:xxxxx@")
	return keywordRE.ReplaceAllString(s, "${1}xxxxx")
}

// redactMalformed hides everything before the last '@' of a URL that did not
// parse: Redact needs a well-formed scheme:// to find the password.
func redactMalformed(raw string) string {
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "xxxxx" + Redact(raw[i:])
	}
	return Redact(raw)
}

// RedactError wraps err so that its message has passwords redacted while
// errors.Is/As still see the original chain.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	return &redacted{err: err}
}

type redacted struct{ err error }

func (r *redacted) Error() string { return Redact(r.err.Error()) }
func (r *redacted) Unwrap() error { return r.err }
