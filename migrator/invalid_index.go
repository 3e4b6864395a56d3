package migrator

import (
	"context"
	"fmt"
	"regexp"
)

// concurrentIndex matches CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] name.
var concurrentIndex = regexp.MustCompile(`(?is)^\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?((?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?)\s+ON\s`)

// dropInvalidIndex drops the INVALID index a failed or killed CREATE INDEX
// CONCURRENTLY left behind under the name stmt is about to create, so the
// re-run builds it instead of skipping it (IF NOT EXISTS) or failing on the
// name. The migrate lock is held, so no other run is building it.
// PostgreSQL only (CockroachDB builds indexes differently).
func (e *pgEngine) dropInvalidIndex(ctx context.Context, stmt string) (string, error) {
	m := concurrentIndex.FindStringSubmatch(stmt)
	if m == nil || e.crdb {
		return "", nil
	}
	var name string
	err := e.conn.QueryRow(ctx, `SELECT coalesce((SELECT c.oid::regclass::text FROM pg_index i
		JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid AND c.oid = to_regclass($1)), '')`, m[1]).Scan(&name)
	if err != nil || name == "" {
		return "", err
	}
	if _, err := e.conn.Exec(ctx, "DROP INDEX CONCURRENTLY IF EXISTS "+name); err != nil {
		return "", fmt.Errorf("drop invalid index %s left by an earlier attempt: %w", name, err)
	}
	return name, nil
}
