// Package backfill fills existing rows of a table in short, resumable
// batches: the engine behind the backfill phase of expand/contract.
//
// [Run] walks the table in key order (the primary key, else any unique NOT
// NULL btree key, else physical ctid ranges by block) and runs one short
// transaction per batch: it updates the next batch of rows with the job's SET
// list (or touches them, so triggers compute the new values) and saves the
// cursor in tidemark.backfill_cursors in the same transaction. A run killed at
// any moment therefore loses nothing and repeats nothing: the next [Run] with
// the same [Job.ID] continues after the saved key. [Reset] forgets the cursor.
//
// Batches are sized by time, not rows: the batch size adapts so that each
// batch takes about [Options.TargetBatch]. Each batch runs with SET LOCAL
// lock_timeout and is retried with backoff and jitter when it cannot get its
// locks in time, so concurrent writers never queue behind the backfill for
// long. [Options.MaxRate] caps rows per second, and [Options.MaxReplicationLag]
// pauses the backfill while a standby lags behind.
//
// Tables without any unique NOT NULL key are walked by ctid block ranges. A
// row version that the backfill itself moved into a block not yet visited is
// recognised by its xmin (the transaction ids of the backfill's batches are
// kept with the cursor) and not updated twice.
package backfill
