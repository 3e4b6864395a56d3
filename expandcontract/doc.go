// Package expandcontract runs two-phase (expand/contract) schema changes on
// PostgreSQL, with migrations written in pgroll's file format.
//
// [Expand] starts one or more [Migration]s as one new version: physical
// tables change only additively (new and changed columns under temporary
// `_tm_new_<col>` names, constraints NOT VALID, unique indexes built
// CONCURRENTLY), a schema `<schema>_<last migration name>` holds one view per
// table in the new version's shape, and a trigger per table keeps both
// versions in sync on every write (up from old-version writes, down from
// new-version writes; a session is on the new version when its search_path
// starts with the version schema). Existing rows are filled by the batched,
// resumable engine in [backfill]. [Contract] finishes it and [Rollback]
// undoes it.
//
// Planning is separate from execution: each [Operation] returns [Action]s
// (with stable IDs) built by a [Dialect], from a [Snapshot] of the schema
// taken when the expand started, so every re-run plans the same actions. A
// coordinator runs them on pinned connections with SET LOCAL lock_timeout,
// retried with backoff and jitter until the DDL deadline, and records each
// finished action in tidemark.ec_actions (in the same transaction as its DDL
// when it has one): a run killed at any moment is finished by running the
// same command again.
//
// Before contract drops the old version and before rollback drops the new
// one, [Drain] looks for sessions still on that version in pg_stat_activity:
// clients declare their version with application_name "<anything>@<version
// schema>" or with a role whose search_path is set to the version schema.
package expandcontract
