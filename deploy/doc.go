// Package deploy is the pipeline's side of tidemark: the verbs a deploy
// pipeline runs around a service release, for one service or a fleet.
//
//   - [Deployer.Start] (pre-deploy): takes the service's deploy lock, creates
//     the snapshot, runs versioned migrations up, starts the expand/contract
//     migrations and records a deployment; it returns what the new service
//     version must use (its version schema and search_path).
//   - [Deployer.Finish] (after the rollout): contracts (with the drain
//     check) and records the result.
//   - [Deployer.Rollback]: rolls back the in-flight expand migrations and the
//     versioned migrations to the recorded version (or restores the snapshot),
//     then runs the service's reconcile rules and records a rollback with the
//     findings; the error is of kind errkind.ErrProblemsFound when the data is
//     inconsistent afterwards.
//
// Each verb is idempotent: running it again after a crash continues where the
// last run stopped (every engine step is itself idempotent) or returns the
// recorded result. Progress is recorded in tidemark.deploy_steps on the
// control database next to the fleet records (internal/records).
//
// The engines are reached through small interfaces defined here ([Snapshotter],
// [Migrator], [Expander], [Reconciler]); a nil engine skips its step. The
// adapters to the real engines live in engines_*.go.
//
// A [Fleet] (fleet.yaml) lists services with their databases, files and
// dependencies; [Deployer.RollbackFleet] rolls back the chosen services in
// reverse dependency order with bounded parallelism, and [Deployer.FleetStatus]
// reads every service's state.
package deploy
