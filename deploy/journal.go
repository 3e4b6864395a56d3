package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/records"
	"github.com/tidemark/tidemark/internal/state"
)

// Component is deploy's part of the tidemark state schema (control database):
// the steps of each deployment done so far, with their results.
var Component = state.Component{Name: "deploy", Steps: []string{
	`CREATE TABLE tidemark.deploy_steps (
		deployment_id bigint NOT NULL,
		step          text NOT NULL,
		detail        jsonb NOT NULL DEFAULT '{}',
		done_at       timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (deployment_id, step))`,
}}

// journal records the steps of deployments on the control database.
type journal struct{ db records.DB }

func openJournal(ctx context.Context, db records.DB) (*journal, error) {
	if err := state.Ensure(ctx, db, Component); err != nil {
		return nil, err
	}
	return &journal{db: db}, nil
}

// put records a step's detail; keep=true keeps an existing value (first write wins).
func (j *journal) put(ctx context.Context, id int64, step string, v any, keep bool) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	q := `INSERT INTO tidemark.deploy_steps (deployment_id, step, detail) VALUES ($1, $2, $3)
		ON CONFLICT (deployment_id, step) DO UPDATE SET detail = excluded.detail, done_at = now()`
	if keep {
		q = `INSERT INTO tidemark.deploy_steps (deployment_id, step, detail) VALUES ($1, $2, $3)
			ON CONFLICT (deployment_id, step) DO NOTHING`
	}
	if _, err := j.db.Exec(ctx, q, id, step, b); err != nil {
		return fmt.Errorf("record step %s: %w", step, err)
	}
	return nil
}

// get reads a step's detail into v; ok=false when the step is not recorded.
func (j *journal) get(ctx context.Context, id int64, step string, v any) (bool, error) {
	var b []byte
	err := j.db.QueryRow(ctx, `SELECT detail FROM tidemark.deploy_steps WHERE deployment_id = $1 AND step = $2`, id, step).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read step %s: %w", step, err)
	}
	return true, json.Unmarshal(b, v)
}

// del forgets a step (a new start after a rollback starts over).
func (j *journal) del(ctx context.Context, id int64, steps ...string) error {
	_, err := j.db.Exec(ctx, `DELETE FROM tidemark.deploy_steps WHERE deployment_id = $1 AND step = ANY($2)`, id, steps)
	return err
}
