// Package reconcile compares data held by different services in different
// databases and reports every broken invariant, then plans and applies
// fix-ups safely.
//
// The model: a [Source] is a named read (an SQL SELECT on PostgreSQL or
// CockroachDB, or a MongoDB find or aggregation pipeline) that yields rows in
// the order of a typed key (int, text, uuid, timestamp; one or more columns).
// Every source streams in key order (SQL: one ordered query per key range,
// read row by row; MongoDB: a sorted cursor, a batch at a time), so memory
// is bounded by the rows in flight, never by the table size. An [Invariant] joins two
// sources on their keys with a merge of the two key-ordered streams:
//
//   - match: every row of left has exactly one row of right with equal
//     (normalised) fields;
//   - exists / not_exists: every left row has (has no) right row with the
//     same key (optionally filtered by a where condition);
//   - aggregate: a per-key sum or count of right equals a field of left.
//
// Keys are encoded into bytes whose byte order is the typed order (integers
// by value, text by UTF-8 bytes = PostgreSQL COLLATE "C" = MongoDB binary
// order, uuids by their 16 bytes), so streams from different engines merge
// consistently.
//
// [Check] reads every source in one snapshot per database (PostgreSQL
// REPEATABLE READ READ ONLY, CockroachDB AS OF SYSTEM TIME, MongoDB snapshot
// read concern where the server supports it). A difference is a suspect:
// after [CheckOptions.Grace] its rows are read again and it is a break only
// if still broken with the same row versions; otherwise it is in flight.
//
// [MakePlan] turns breaks into actions (SQL statement, MongoDB update or a
// compensation event) carrying the observed row versions; the plan is
// identified by the sha256 of its canonical JSON. [Apply] applies exactly that
// plan: each action only if the rows still have the observed versions, once
// (idempotency key in tidemark.reconcile_ledger), within caps.
package reconcile
