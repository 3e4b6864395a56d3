package reconcile

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
)

// sqlDialect builds the statements tidemark runs around a source's SELECT.
// It only builds strings (golden-tested); sqlReader runs them.
type sqlDialect struct{ engine dburl.Engine }

const srcAlias = "tm_src"

func (d sqlDialect) col(c KeyColumn) string {
	return srcAlias + "." + pgx.Identifier{c.Name}.Sanitize()
}

// collate makes text order byte order on PostgreSQL (CockroachDB strings
// already sort by bytes).
func (d sqlDialect) collate(c KeyColumn, expr string) string {
	if c.Type == KeyText && d.engine == dburl.Postgres {
		return expr + ` COLLATE "C"`
	}
	return expr
}

func (d sqlDialect) param(c KeyColumn, n int) string {
	t := map[KeyType]string{KeyInt: "bigint", KeyText: "text", KeyUUID: "uuid", KeyTimestamp: "timestamptz"}[c.Type]
	return d.collate(c, fmt.Sprintf("$%d::%s", n, t))
}

func (d sqlDialect) orderBy(key []KeyColumn) string {
	parts := make([]string, len(key))
	for i, c := range key {
		parts[i] = d.collate(c, d.col(c))
	}
	return strings.Join(parts, ", ")
}

// tuple renders (cols) op (params) starting at parameter first.
func (d sqlDialect) compare(key []KeyColumn, op string, first int) string {
	l, r := make([]string, len(key)), make([]string, len(key))
	for i, c := range key {
		l[i], r[i] = d.collate(c, d.col(c)), d.param(c, first+i)
	}
	if len(key) == 1 {
		return l[0] + " " + op + " " + r[0]
	}
	return "(" + strings.Join(l, ", ") + ") " + op + " (" + strings.Join(r, ", ") + ")"
}

// Page returns the keyset page query: rows from a key on (when from),
// below hi (when hi), in key order, at most limit rows (0: all).
// Parameters: the from key values, then the hi key values.
func (d sqlDialect) Page(s *Source, from, hi bool, limit int) string {
	var where []string
	n := 1
	if from {
		where = append(where, d.compare(s.Key, ">=", n))
		n += len(s.Key)
	}
	if hi {
		where = append(where, d.compare(s.Key, "<", n))
	}
	q := "SELECT * FROM (" + s.SQL + ") AS " + srcAlias
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY " + d.orderBy(s.Key)
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	return q
}

// Lookup returns the query reading the rows of one key.
func (d sqlDialect) Lookup(s *Source) string {
	parts := make([]string, len(s.Key))
	for i, c := range s.Key {
		parts[i] = d.col(c) + " = " + d.param(c, i+1)
	}
	return "SELECT * FROM (" + s.SQL + ") AS " + srcAlias + " WHERE " + strings.Join(parts, " AND ")
}

// Count returns the row count query.
func (d sqlDialect) Count(s *Source) string {
	return "SELECT count(*) FROM (" + s.SQL + ") AS " + srcAlias
}

// Sample returns the query of a random sample (fraction $1) of the keys,
// in key order: quantiles are cut from it without sorting every row.
func (d sqlDialect) Sample(s *Source) string {
	return "SELECT * FROM (SELECT " + strings.Join(prefixed(s.Key, d), ", ") + " FROM (" + s.SQL + ") AS " + srcAlias +
		" WHERE random() < $1 OFFSET 0) AS " + srcAlias + " ORDER BY " + d.orderBy(s.Key)
}

func prefixed(key []KeyColumn, d sqlDialect) []string {
	out := make([]string, len(key))
	for i, c := range key {
		out[i] = d.col(c)
	}
	return out
}

// BeginSnapshot returns the statements that start a worker's read
// transaction in the run's snapshot: an exported PostgreSQL snapshot, or a
// CockroachDB AS OF SYSTEM TIME timestamp.
func (d sqlDialect) BeginSnapshot(snapshot string) []string {
	if d.engine == dburl.Cockroach {
		return []string{"BEGIN TRANSACTION AS OF SYSTEM TIME " + quoteLiteral(snapshot)}
	}
	return []string{
		"BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
		"SET TRANSACTION SNAPSHOT " + quoteLiteral(snapshot),
	}
}

// TakeSnapshot returns the statement run in the coordinator transaction to
// name the snapshot (PostgreSQL: exported snapshot id; CockroachDB: a
// the current HLC timestamp, as a decimal string).
func (d sqlDialect) TakeSnapshot() (begin, take string) {
	if d.engine == dburl.Cockroach {
		return "", "SELECT cluster_logical_timestamp()::STRING"
	}
	return "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", "SELECT pg_export_snapshot()"
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
