package expandcontract

import (
	"crypto/sha1"
	"encoding/hex"
	"strings"
)

// Dialect builds the SQL of every action. It only builds strings; the
// coordinator runs them, so plans are golden-testable. A CockroachDB dialect
// can embed Postgres and override what differs.
type Dialect interface {
	Quote(ident string) string
	Table(schema, table string) string
	IsNewVersion(versionSchema string) string
	CreateIndex(concurrently bool, spec indexSQL) string
	DropIndex(schema, name string) string
}

// Postgres is the PostgreSQL dialect.
type Postgres struct{}

var _ Dialect = Postgres{}

// Quote quotes an identifier.
func (Postgres) Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// Table returns schema.table quoted.
func (d Postgres) Table(schema, table string) string { return d.Quote(schema) + "." + d.Quote(table) }

// IsNewVersion is a SQL boolean that is true in a session whose search_path
// starts with the new version's schema (how pgroll tells versions apart).
func (Postgres) IsNewVersion(versionSchema string) string {
	return "split_part(replace(replace(current_setting('search_path'), '\"', ''), ' ', ''), ',', 1) = " + literal(versionSchema)
}

type indexSQL struct {
	Unique           bool
	Schema           string
	Name             string
	Table            string
	Method           string
	Elements         []string // already quoted/rendered
	Include          []string // quoted
	NullsNotDistinct bool
	Storage          string
	Predicate        string
	IfNotExist       bool
}

// CreateIndex renders CREATE INDEX.
func (d Postgres) CreateIndex(concurrently bool, s indexSQL) string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if s.Unique {
		b.WriteString("UNIQUE ")
	}
	b.WriteString("INDEX ")
	if concurrently {
		b.WriteString("CONCURRENTLY ")
	}
	if s.IfNotExist {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(d.Quote(s.Name) + " ON " + d.Table(s.Schema, s.Table))
	if s.Method != "" {
		b.WriteString(" USING " + s.Method)
	}
	b.WriteString(" (" + strings.Join(s.Elements, ", ") + ")")
	if len(s.Include) > 0 {
		b.WriteString(" INCLUDE (" + strings.Join(s.Include, ", ") + ")")
	}
	if s.NullsNotDistinct {
		b.WriteString(" NULLS NOT DISTINCT")
	}
	if s.Storage != "" {
		b.WriteString(" WITH (" + s.Storage + ")")
	}
	if s.Predicate != "" {
		b.WriteString(" WHERE " + s.Predicate)
	}
	return b.String()
}

// DropIndex renders DROP INDEX CONCURRENTLY IF EXISTS.
func (d Postgres) DropIndex(schema, name string) string {
	return "DROP INDEX CONCURRENTLY IF EXISTS " + d.Table(schema, name)
}

func literalOrNull(s *string) string {
	if s == nil {
		return "NULL"
	}
	return literal(*s)
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident63 shortens a generated identifier to PostgreSQL's 63 bytes,
// keeping it unique with a hash suffix.
func ident63(s string) string {
	if len(s) <= 63 {
		return s
	}
	h := sha1.Sum([]byte(s))
	return s[:54] + "_" + hex.EncodeToString(h[:4])
}

// tempName is the physical name of a column while its new version is built.
func tempName(col string) string { return ident63("_tm_new_" + col) }
