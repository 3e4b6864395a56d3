package records

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Start describes a deployment to record.
type Start struct {
	Service string
	Release string // e.g. "v42"; with Service the idempotency key
	Version string // the service version deployed (default: Release)
	Details any    // JSON object merged into the record's details (optional)
}

const deploymentCols = `id, service, release, version, started_at, finished_at, result, attempts, details`

func scanDeployment(row pgx.Row) (Deployment, error) {
	var d Deployment
	var details []byte
	err := row.Scan(&d.ID, &d.Service, &d.Release, &d.Version, &d.StartedAt, &d.FinishedAt, &d.Result, &d.Attempts, &details)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, ErrNotFound
	}
	d.Details = details
	return d, err
}

// StartDeployment records that a release of a service is being deployed and
// marks the service as deploying. Starting a (service, release) already
// recorded returns that deployment, running again with Attempts+1.
func (s *Store) StartDeployment(ctx context.Context, in Start) (Deployment, error) {
	if in.Service == "" || in.Release == "" {
		return Deployment{}, fmt.Errorf("start deployment: service and release are required")
	}
	if in.Version == "" {
		in.Version = in.Release
	}
	details, err := jsonObject(in.Details)
	if err != nil {
		return Deployment{}, err
	}
	var d Deployment
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		d, err = scanDeployment(tx.QueryRow(ctx, `INSERT INTO tidemark.deploy_deployments AS d
			(service, release, version, result, details) VALUES ($1, $2, $3, 'running', $4::jsonb)
			ON CONFLICT (service, release) DO UPDATE SET result = 'running', finished_at = NULL,
				attempts = d.attempts + 1, version = excluded.version, details = d.details || excluded.details
			RETURNING `+deploymentCols, in.Service, in.Release, in.Version, string(details)))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO tidemark.deploy_services (service, version, deployed_at, status)
			VALUES ($1, $2, now(), $3)
			ON CONFLICT (service) DO UPDATE SET version = excluded.version, deployed_at = excluded.deployed_at,
				status = excluded.status`, in.Service, in.Version, StatusDeploying)
		return err
	})
	if err != nil {
		return Deployment{}, fmt.Errorf("start deployment %s %s: %w", in.Service, in.Release, err)
	}
	return d, nil
}

// FinishDeployment records a deployment's result (Succeeded or Failed) and
// merges details into its record; the service becomes deployed or failed.
// Finishing twice records the latest result.
func (s *Store) FinishDeployment(ctx context.Context, id int64, result Result, details any) (Deployment, error) {
	if result != Succeeded && result != Failed {
		return Deployment{}, fmt.Errorf("finish deployment %d: result %q: want succeeded or failed", id, result)
	}
	b, err := jsonObject(details)
	if err != nil {
		return Deployment{}, err
	}
	status := StatusDeployed
	if result == Failed {
		status = StatusFailed
	}
	var d Deployment
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		d, err = scanDeployment(tx.QueryRow(ctx, `UPDATE tidemark.deploy_deployments
			SET finished_at = now(), result = $2, details = details || $3::jsonb
			WHERE id = $1 RETURNING `+deploymentCols, id, string(result), string(b)))
		if err != nil {
			return err
		}
		return setServiceStatus(ctx, tx, d, status)
	})
	if err != nil {
		return Deployment{}, fmt.Errorf("finish deployment %d: %w", id, err)
	}
	return d, nil
}

// setServiceStatus updates the service row if it still shows d's version.
func setServiceStatus(ctx context.Context, tx pgx.Tx, d Deployment, status string) error {
	_, err := tx.Exec(ctx, `UPDATE tidemark.deploy_services SET status = $3, deployed_at = now()
		WHERE service = $1 AND version = $2`, d.Service, d.Version, status)
	return err
}

// LatestDeployment returns the service's most recently started deployment,
// or ErrNotFound.
func (s *Store) LatestDeployment(ctx context.Context, service string) (Deployment, error) {
	d, err := scanDeployment(s.db.QueryRow(ctx, `SELECT `+deploymentCols+` FROM tidemark.deploy_deployments
		WHERE service = $1 ORDER BY started_at DESC, id DESC LIMIT 1`, service))
	if err != nil {
		return d, fmt.Errorf("latest deployment of %s: %w", service, err)
	}
	return d, nil
}

// FindDeployment returns the deployment of (service, release), or ErrNotFound.
func (s *Store) FindDeployment(ctx context.Context, service, release string) (Deployment, error) {
	d, err := scanDeployment(s.db.QueryRow(ctx, `SELECT `+deploymentCols+` FROM tidemark.deploy_deployments
		WHERE service = $1 AND release = $2`, service, release))
	if err != nil {
		return d, fmt.Errorf("deployment %s %s: %w", service, release, err)
	}
	return d, nil
}
