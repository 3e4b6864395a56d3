// Package backfill fills existing rows of a table in short, resumable
// batches: the engine behind the backfill phase of expand/contract.
//
// [Run] walks the table in key order (the primary key, else any unique NOT
// NULL btree key, else physical ctid ranges by block). A keyset batch is one
// statement: it finds the batch's upper key with an index scan, updates the
// rows in (cursor, upper] with the job's SET list (or touches them, so that
// triggers compute the new values) and saves the cursor in
// tidemark.backfill_cursors, all atomically. A run killed at any moment
// therefore loses nothing and repeats nothing: the next [Run] with the same
// [Job.ID] continues after the saved key. [Reset] forgets the cursor, [Load]
// reads it (for status displays).
//
// A run holds a session advisory lock on its job, so two runs of one job
// never overlap ([ErrBusy]), not even with a statement of a cancelled run
// that is still finishing on the server.
//
// Batches are sized by time, not rows: the batch size adapts so that each
// batch takes about [Options.TargetBatch], which bounds how long a
// concurrent writer can wait for a row the backfill holds. The run's
// connection has lock_timeout set ([Options.LockTimeout]); a batch that
// cannot get its locks in time is retried with backoff, jitter and a smaller
// size. [Options.MaxRate] caps rows per second, and
// [Options.MaxReplicationLag] pauses the backfill while a standby in
// pg_stat_replication lags behind.
//
// Tables without any unique NOT NULL key are walked by ctid block ranges, up
// to the table's size when the job started (rows written later are the
// triggers' business). A row version that the backfill itself moved into a
// block not yet visited is recognised by its xmin (the transaction ids of
// the job's batches are kept with the cursor) and not updated twice.
//
// Touching rows (an empty [Job.Set]) assigns a column to itself, preferring
// a key column and never a generated or GENERATED ALWAYS identity column:
// triggers that are to fire must be row-level BEFORE/AFTER UPDATE triggers
// without a column list (or list that column).
package backfill
