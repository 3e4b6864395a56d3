// Package lock is tidemark's per-database run lock: one migration, deploy or
// reconcile run per database and key at a time.
//
// [Acquire] takes the lock named by a string key ("migrate", "deploy:orders")
// on the target database, waiting up to [Options.Timeout]. The mechanism
// depends on the engine:
//
//   - PostgreSQL: a session advisory lock (pg_try_advisory_lock, polled with
//     backoff) on a connection pinned for the life of the lock, plus a holder
//     row in tidemark.lock_holders so that a waiter can name the holder. If the
//     holder dies, PostgreSQL drops the session and with it the lock.
//   - CockroachDB: advisory locks do nothing there, so a lease row with an
//     expiry in tidemark.lock_leases, renewed while held. An expired lease is
//     taken over. The SQL is plain PostgreSQL too (it is tested there).
//   - MongoDB: a lease document with an expiry in the `locks` collection of
//     the `tidemark` database, renewed while held; an expired lease is taken
//     over. No transactions are needed (FerretDB has none).
//
// When the lock stays busy past the timeout, Acquire returns a [*HeldError]
// naming the holder (host, pid, since); it wraps [ErrHeld] and
// errkind.ErrTemporary, so the command line exits 75.
package lock
