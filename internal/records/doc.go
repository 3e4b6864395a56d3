// Package records keeps the fleet records on a control database (PostgreSQL
// or CockroachDB; `--state-url`, by default the target database): which
// service version was deployed or rolled back when, and why.
//
// Three tables in the tidemark schema, created on first use by [Open]
// (state component "records"):
//
//   - tidemark.deploy_services: one [ServiceVersion] per service, the version
//     most recently deployed (or being deployed) and its status.
//   - tidemark.deploy_deployments: one [Deployment] per (service, release),
//     with start and end time, result and free-form JSON details.
//   - tidemark.deploy_rollbacks: one [Rollback] per deployment rolled back,
//     with time, reason, result and JSON findings.
//
// Every write is idempotent, so a pipeline step that is run again after a
// crash finishes the same records instead of adding new ones:
// [Store.StartDeployment] for a (service, release) already recorded returns
// that deployment (marked running again, Attempts+1); [Store.RecordRollback]
// for a deployment already rolled back updates that rollback.
//
// Typical use (the migrate and deploy commands):
//
//	st, err := records.Open(ctx, conn)
//	d, err := st.StartDeployment(ctx, records.Start{Service: "orders", Release: "v42"})
//	... do the work ...
//	d, err = st.FinishDeployment(ctx, d.ID, records.Succeeded, map[string]any{"migrations": 3})
package records
