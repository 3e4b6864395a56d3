package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidemark/tidemark/internal/state"
)

// Result is the outcome of a deployment or a rollback.
type Result string

const (
	Running    Result = "running"
	Succeeded  Result = "succeeded"
	Failed     Result = "failed"
	RolledBack Result = "rolled_back" // a deployment that was rolled back
)

// Service statuses in [ServiceVersion].Status.
const (
	StatusDeploying  = "deploying"
	StatusDeployed   = "deployed"
	StatusFailed     = "failed"
	StatusRolledBack = "rolled_back"
)

// ServiceVersion is a MicroserviceVersion: the version of a service most
// recently deployed or being deployed, and its status.
type ServiceVersion struct {
	Service    string    `json:"service"`
	Version    string    `json:"version"`
	DeployedAt time.Time `json:"deployed_at"`
	Status     string    `json:"status"`
}

// Deployment is a DeploymentRecord: one release of one service.
type Deployment struct {
	ID         int64           `json:"id"`
	Service    string          `json:"service"`
	Release    string          `json:"release"`
	Version    string          `json:"version"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Result     Result          `json:"result"`
	Attempts   int             `json:"attempts"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// Rollback is a RollbackRecord: a deployment rolled back, when and why.
type Rollback struct {
	ID           int64           `json:"id"`
	DeploymentID int64           `json:"deployment_id"`
	At           time.Time       `json:"at"`
	Reason       string          `json:"reason"`
	Result       Result          `json:"result"`
	Findings     json.RawMessage `json:"findings,omitempty"`
}

// DB is what a Store needs: *pgx.Conn and *pgxpool.Pool both qualify.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Store reads and writes the fleet records on a control database.
type Store struct{ db DB }

// Component is the records part of the tidemark state schema.
var Component = state.Component{Name: "records", Steps: []string{
	`CREATE TABLE tidemark.deploy_services (
		service     text PRIMARY KEY,
		version     text NOT NULL,
		deployed_at timestamptz NOT NULL,
		status      text NOT NULL)`,
	`CREATE TABLE tidemark.deploy_deployments (
		id          BIGSERIAL PRIMARY KEY,
		service     text NOT NULL,
		release     text NOT NULL,
		version     text NOT NULL,
		started_at  timestamptz NOT NULL DEFAULT now(),
		finished_at timestamptz,
		result      text NOT NULL,
		attempts    int NOT NULL DEFAULT 1,
		details     jsonb NOT NULL DEFAULT '{}',
		UNIQUE (service, release))`,
	`CREATE TABLE tidemark.deploy_rollbacks (
		id            BIGSERIAL PRIMARY KEY,
		deployment_id bigint NOT NULL UNIQUE REFERENCES tidemark.deploy_deployments(id),
		at            timestamptz NOT NULL DEFAULT now(),
		reason        text NOT NULL,
		result        text NOT NULL,
		findings      jsonb NOT NULL DEFAULT '{}')`,
}}

// Open prepares the records tables (created or upgraded on first use).
func Open(ctx context.Context, db DB) (*Store, error) {
	if err := state.Ensure(ctx, db, Component); err != nil {
		return nil, err
	}
	return &Store{db: db}, nil
}

// jsonObject encodes v (nil: {}) for a jsonb column.
func jsonObject(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		if len(x) == 0 {
			return []byte("{}"), nil
		}
		return x, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode details: %w", err)
	}
	return b, nil
}

// inTx runs fn in a transaction, retrying CockroachDB serialization failures.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = pgx.BeginFunc(ctx, s.db, fn)
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || pe.Code != "40001" {
			return err
		}
	}
	return err
}
