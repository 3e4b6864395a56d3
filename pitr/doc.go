// Package pitr records, verifies and restores pre-deploy points of a database:
// the point-in-time-recovery (PITR) snapshot hooks tidemark runs before each
// deploy.
//
// A [Provider] is one engine's implementation (PostgreSQL, CockroachDB,
// MongoDB, in the subpackages postgres, cockroach and mongo). Providers
// register themselves by URL engine with [Register]; import
// github.com/tidemark/tidemark/pitr/all to get all of them, then call [Open].
//
// Every snapshot is described by a [Manifest]: the label, the redacted
// database URL, the engine and server version, the wall-clock time, the
// engine's own position ([Position]: PostgreSQL LSN, timeline and restore
// point; CockroachDB HLC timestamp; MongoDB operation time), the base backup it
// depends on, the tables or collections covered with row counts and
// checksums, and what a restore needs. Manifests live in the target database
// (tidemark.pitr_snapshots, or the snapshots collection of the tidemark
// database on MongoDB) and can be written as JSON files with [WriteManifestFile].
//
// Create is idempotent by label: creating an existing label returns the
// manifest already recorded, with Manifest.Existing set.
package pitr
