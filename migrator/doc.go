// Package migrator runs versioned migrations written as golang-migrate files
// (NNN_name.up.sql / NNN_name.down.sql; JSON command files NNN_name.up.json
// for MongoDB) against PostgreSQL, CockroachDB and MongoDB.
//
// # Design
//
// golang-migrate is used for what it does well — the file name rules and
// parsing (source.Parse, source.Migrations) — but not to execute: its
// drivers keep a single "dirty" flag that a human must clear with `force`
// after any failure. Instead migrator executes the files itself (pgx for
// PostgreSQL and CockroachDB, RunCommand for MongoDB) and keeps its own
// history in the tidemark state schema:
//
//   - tidemark.migrate_versions: the versions currently applied, with the
//     checksum (sha256) of the up file as applied;
//   - tidemark.migrate_history: every attempt of every file: checksum, start
//     and end time, duration, host, database user, result, the failed
//     statement and how many statements completed.
//
// A SQL file runs in one transaction together with its bookkeeping, so a
// failure leaves the version where it was and `up` simply runs again after
// the fix. A file whose first line is [NoTransactionMarker]
// (`-- tidemark:no-transaction`, needed for CREATE INDEX CONCURRENTLY) runs
// statement by statement outside a transaction; each completed statement is
// recorded, and the next `up` continues at the first statement not yet
// applied (refusing, with instructions, if the applied statements were edited).
// MongoDB files always run that way (no multi-document transactions).
//
// Files are split into statements ([Statement], with line numbers) by a
// splitter that understands comments, strings, quoted identifiers and dollar
// quoting; errors are [*StatementError]s naming file, line and statement.
//
// One run per database at a time: [LockKey] is taken with internal/lock
// (PostgreSQL advisory lock, CockroachDB lease row, MongoDB lease document).
//
// Usage:
//
//	m, err := migrator.Open(ctx, u, migrator.Options{Source: "migrations", LockTimeout: time.Minute})
//	defer m.Close(ctx)
//	res, err := m.Up(ctx, 0)
package migrator
