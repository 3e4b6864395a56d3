package cockroach

import (
	"fmt"
	"strings"
)

// The statement builder: every SQL text the provider runs comes from here,
// so each one has a golden file (testdata/*.golden). Identifiers are quoted
// with Ident, string literals with Lit.

// Ident quotes an identifier.
func Ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Lit quotes a string literal.
func Lit(s string) string { return `'` + strings.ReplaceAll(s, `'`, `''`) + `'` }

// MarkerSQL reads the cluster's HLC timestamp: the snapshot point.
func MarkerSQL() string { return `SELECT cluster_logical_timestamp()::STRING, now()` }

// VersionSQL reads the server version.
func VersionSQL() string { return `SELECT version()` }

// ZoneConfigSQL reads the database's zone configuration (raw_config_sql
// holds gc.ttlseconds).
func ZoneConfigSQL(db string) string {
	return `SELECT raw_config_sql FROM [SHOW ZONE CONFIGURATION FROM DATABASE ` + Ident(db) + `]`
}

// BackupSQL starts a revision-history backup of the database as of the
// marker, detached (it returns the job id at once).
func BackupSQL(db, dest, hlc string) string {
	return fmt.Sprintf(`BACKUP DATABASE %s INTO %s AS OF SYSTEM TIME %s WITH revision_history, detached`, Ident(db), Lit(dest), Lit(hlc))
}

// JobStatusSQL reads a job's status and error.
func JobStatusSQL() string {
	return `SELECT status, coalesce(error, '') FROM [SHOW JOBS] WHERE job_id = $1`
}

// ShowBackupSQL checks the latest backup in dest, including its files.
func ShowBackupSQL(dest string) string {
	return fmt.Sprintf(`SELECT count(*) FROM [SHOW BACKUP FROM LATEST IN %s WITH check_files]`, Lit(dest))
}

// RestoreSQL restores the database as of the marker under a new name.
func RestoreSQL(db, dest, hlc, newName string) string {
	return fmt.Sprintf(`RESTORE DATABASE %s FROM LATEST IN %s AS OF SYSTEM TIME %s WITH new_db_name = %s`,
		Ident(db), Lit(dest), Lit(hlc), Lit(newName))
}

// RenameSQL renames a database (run from another current database).
func RenameSQL(from, to string) string {
	return fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, Ident(from), Ident(to))
}

// UseSQL switches the session's current database.
func UseSQL(db string) string { return `SET database = ` + Ident(db) }

// ColumnsSQL lists a table's visible columns in order.
func ColumnsSQL() string {
	return `SELECT column_name FROM information_schema.columns
WHERE table_schema = $1 AND table_name = $2 AND is_hidden = 'NO' ORDER BY ordinal_position`
}

// ChecksumSQL counts and checksums a table's rows as of the marker: the sum
// of fnv64a over each row's columns as text (NULL as \N), which does not
// depend on row order. An empty hlc reads the current data.
func ChecksumSQL(schema, table string, cols []string, hlc string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(`coalesce(%s::STRING, e'\\N')`, Ident(c))
	}
	q := fmt.Sprintf(`SELECT count(*), coalesce(sum(fnv64a(concat_ws('|', %s))), 0)::STRING FROM %s.%s`,
		strings.Join(parts, ", "), Ident(schema), Ident(table))
	if hlc != "" {
		q += ` AS OF SYSTEM TIME ` + Lit(hlc)
	}
	return q
}
