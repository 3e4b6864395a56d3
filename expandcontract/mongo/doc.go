// Package mongo runs expand/contract (two-phase) document-shape migrations
// on MongoDB, so that the old and the new version of a service both keep
// working on the same collections until the old one is gone.
//
// # Files
//
// A migration file has the outer format of a pgroll file (YAML or JSON: an
// optional name: and an operations: list of single-key maps), read by
// [Parse] (errors name file:line and wrap errkind.ErrUsage):
//
//	name: amount_cents
//	operations:
//	  - change_field:
//	      collection: payments
//	      field: amount            # old field (a decimal string)
//	      to: amount_cents         # new field (an int)
//	      up: {$toInt: {$round: [{$multiply: [{$toDouble: "$amount"}, 100]}, 0]}}
//	      down: {$toString: {$divide: ["$amount_cents", 100]}}
//
// Operations: add_field {collection, field, up | default}, rename_field
// {collection, from, to}, change_field {collection, field, to, up, down},
// drop_field {collection, field, down?}, create_index {collection, name,
// keys (map or list), unique?}, drop_index {collection, name}. Fields are
// top-level names (no dots, not _id). change_field needs to: one field cannot
// hold both shapes at once.
//
// # Lifecycle
//
// [Expand] records each collection's validator in the state, then sets a
// $jsonSchema validator that accepts both shapes (old fields leave
// "required"; a required old field must be present under its old or its new
// name), creates indexes, and backfills. [Contract] converges the writes the
// old version made since, $unsets the old fields, drops indexes of
// drop_index, and requires the new shape in the validator. [Rollback]
// converges the writes the new version made (down), $unsets the new fields,
// drops created indexes and restores the recorded validator, at any moment
// before contract. Running Expand again on an expanded migration runs one
// more convergence round in both directions (useful on a schedule during the
// window, as MongoDB has no triggers).
//
// # Backfill and convergence
//
// MongoDB has no triggers, so tidemark converges documents in passes over
// each collection in _id order (batches of [Options].BatchSize, the upper
// bound of a pass being the largest _id when it began). For every document
// it compares both sides with a per-document sync stamp, a field
// _tidemark_<migration>_<op> holding hashes of the old-side and new-side
// values last synced: a side missing or changed since the stamp is computed
// from the other (up: new from old; down: old from new); when both changed,
// the new shape wins. Each write is a conditional update whose filter holds
// every observed value, so a concurrent write is never overwritten: it makes
// the update match nothing and the next pass looks again. A pass that
// writes and misses nothing ends the convergence. Expand stops after
// [Options].MaxExpandPasses; contract (up only) and rollback (down only) run
// up to MaxFinalPasses and fail with errkind.ErrTemporary when writers of
// the version being dropped are still active. Stamps are $unset by contract
// and rollback.
//
// # Crash safety
//
// State lives in the tidemark database: ec_state (one document per database
// and migration: phase, steps done, backfill cursor and counters per phase,
// recorded validators, the migration file itself) and ec_locks (a lease per
// database; a lease held by a dead process on the same host is taken over at
// once). Every step is idempotent and marked done after it ran; the cursor is
// saved after every batch. A run killed at any point (kill -9) is finished by
// running the same command again: no document is lost or duplicated.
// [Options].Hook names every step boundary ("<phase>:<step>:before|after",
// "<phase>:sync-<op>:batch:<n>:written|saved", "<final phase>:<migration>");
// tests kill the process there.
//
// # up/down expressions are evaluated by tidemark
//
// up and down are aggregation expressions, evaluated in Go for this subset
// (others are rejected when the file is parsed): field paths "$f" and "$a.b",
// literals, $literal, $convert {input, to, onError, onNull} with to int, long,
// double, decimal, string or bool, $toInt, $toLong, $toDouble, $toDecimal,
// $toString, $toBool, $add, $subtract, $multiply, $divide, $round (half to
// even, as MongoDB), $trunc, $concat, $toLower, $toUpper, $ifNull, $cond,
// $eq, $ne, $gt, $gte, $lt, $lte, $and, $or, $not. Decimal arithmetic is
// exact (big.Rat) but does not keep MongoDB's trailing-zero scale. This is
// the same on every server, so a migration behaves identically on FerretDB
// and on MongoDB.
//
// # FerretDB v1.24 (the test server) and what tidemark does about it
//
//   - No update pipelines (update with an array is TypeMismatch) and no
//     aggregation operators but $sum and $type: up/down are evaluated in Go
//     (above) and written with $set; [Probe] reports UpdatePipelines.
//   - No collMod and no validator on create (NotImplemented, code 238): the
//     validators are still computed, recorded in ec_state (original and
//     applied) and reported as not enforced (a warning, Status validators
//     enforced=false); a real mongod enforces them.
//   - No multi-document transactions: nothing relies on them; every step is a
//     single-document write or an idempotent multi-document one.
//   - Updates are a read-modify-write of the whole document outside any
//     isolation, only an exact {_id} filter is pushed down to SQLite (any
//     other filter scans the collection), and a bulk command holds a
//     connection per statement until it ends (a 100-statement bulk update
//     deadlocks its pool). On FerretDB tidemark therefore re-reads each
//     document by _id, checks the observed values itself and updates by _id
//     alone, one statement per command. A concurrent write to the same
//     document can still be lost inside FerretDB's own read-modify-write (a
//     window of milliseconds), as it can between any two FerretDB clients
//     that $set different fields of one document; on MongoDB the
//     conditional filter is atomic.
//   - Under concurrent writers the SQLite backend may answer SQLITE_BUSY;
//     clients retry.
package mongo
