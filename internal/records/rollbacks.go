package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// RollbackInput describes a rollback to record.
type RollbackInput struct {
	DeploymentID int64
	Reason       string
	Result       Result // Running, Succeeded or Failed
	Findings     any    // JSON object (e.g. reconcile findings), optional
}

// RecordRollback records the rollback of a deployment; recording it again
// (a retried rollback) updates the same record. When the rollback succeeded,
// the deployment's result becomes RolledBack and the service rolled_back.
func (s *Store) RecordRollback(ctx context.Context, in RollbackInput) (Rollback, error) {
	if in.Result == "" {
		in.Result = Running
	}
	findings, err := jsonObject(in.Findings)
	if err != nil {
		return Rollback{}, err
	}
	var r Rollback
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var b []byte
		err := tx.QueryRow(ctx, `INSERT INTO tidemark.deploy_rollbacks AS r (deployment_id, reason, result, findings)
			VALUES ($1, $2, $3, $4::jsonb)
			ON CONFLICT (deployment_id) DO UPDATE SET at = now(), reason = excluded.reason,
				result = excluded.result, findings = excluded.findings
			RETURNING id, deployment_id, at, reason, result, findings`,
			in.DeploymentID, in.Reason, string(in.Result), string(findings)).
			Scan(&r.ID, &r.DeploymentID, &r.At, &r.Reason, &r.Result, &b)
		if err != nil {
			return err
		}
		r.Findings = b
		if in.Result != Succeeded {
			return nil
		}
		d, err := scanDeployment(tx.QueryRow(ctx, `UPDATE tidemark.deploy_deployments SET result = 'rolled_back'
			WHERE id = $1 RETURNING `+deploymentCols, in.DeploymentID))
		if err != nil {
			return err
		}
		return setServiceStatus(ctx, tx, d, StatusRolledBack)
	})
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) && pe.SQLState() == "23503" {
		err = fmt.Errorf("deployment %d: %w", in.DeploymentID, ErrNotFound)
	}
	if err != nil {
		return Rollback{}, fmt.Errorf("record rollback: %w", err)
	}
	return r, nil
}

// ListServices returns every service's current version and status, by name.
func (s *Store) ListServices(ctx context.Context) ([]ServiceVersion, error) {
	rows, err := s.db.Query(ctx, `SELECT service, version, deployed_at, status FROM tidemark.deploy_services ORDER BY service`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ServiceVersion, error) {
		var v ServiceVersion
		err := row.Scan(&v.Service, &v.Version, &v.DeployedAt, &v.Status)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return out, nil
}
