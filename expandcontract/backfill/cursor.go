package backfill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/state"
)

// Component is the backfill's part of the tidemark state schema.
var Component = state.Component{Name: "backfill", Steps: []string{
	`CREATE TABLE tidemark.backfill_cursors (
		job_id      text PRIMARY KEY,
		table_name  text NOT NULL,
		strategy    text NOT NULL,
		key_columns text[] NOT NULL,
		last_key    text[],
		end_block   bigint,
		own_xids    bigint[] NOT NULL DEFAULT '{}',
		rows        bigint NOT NULL DEFAULT 0,
		batches     bigint NOT NULL DEFAULT 0,
		done        boolean NOT NULL DEFAULT false,
		started_at  timestamptz NOT NULL DEFAULT now(),
		updated_at  timestamptz NOT NULL DEFAULT now(),
		finished_at timestamptz)`,
}}

// Cursor is the saved position of one backfill job.
type Cursor struct {
	JobID string `json:"job_id"`
	// Table is the quoted schema.table.
	Table string `json:"table"`
	// Strategy is "key" (keyset on KeyColumns) or "ctid" (block ranges).
	Strategy   string   `json:"strategy"`
	KeyColumns []string `json:"key_columns,omitempty"`
	// LastKey is the last key done (text form), or for "ctid" the next
	// block to do; nil before the first batch.
	LastKey    []string   `json:"last_key,omitempty"`
	EndBlock   *int64     `json:"end_block,omitempty"`
	OwnXids    []int64    `json:"-"`
	Rows       int64      `json:"rows"`
	Batches    int64      `json:"batches"`
	Done       bool       `json:"done"`
	StartedAt  time.Time  `json:"started_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

const cursorCols = `job_id, table_name, strategy, key_columns, last_key, end_block, own_xids,
	rows, batches, done, started_at, updated_at, finished_at`

func scanCursor(row pgx.Row) (*Cursor, error) {
	c := &Cursor{}
	err := row.Scan(&c.JobID, &c.Table, &c.Strategy, &c.KeyColumns, &c.LastKey, &c.EndBlock, &c.OwnXids,
		&c.Rows, &c.Batches, &c.Done, &c.StartedAt, &c.UpdatedAt, &c.FinishedAt)
	return c, err
}

// Load returns the saved cursor of a job, or nil when there is none.
func Load(ctx context.Context, pool *pgxpool.Pool, jobID string) (*Cursor, error) {
	if err := state.Ensure(ctx, pool, Component); err != nil {
		return nil, err
	}
	c, err := scanCursor(pool.QueryRow(ctx, `SELECT `+cursorCols+` FROM tidemark.backfill_cursors WHERE job_id = $1`, jobID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load backfill cursor %s: %w", jobID, err)
	}
	return c, nil
}

// Reset forgets a job's cursor (rollback): a later Run starts from the
// beginning. Resetting a job that has no cursor is not an error.
func Reset(ctx context.Context, pool *pgxpool.Pool, jobID string) error {
	if err := state.Ensure(ctx, pool, Component); err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, `DELETE FROM tidemark.backfill_cursors WHERE job_id = $1`, jobID); err != nil {
		return fmt.Errorf("reset backfill cursor %s: %w", jobID, err)
	}
	return nil
}

// openCursor creates the job's cursor or loads the saved one, checking that
// it belongs to the same table and key.
func openCursor(ctx context.Context, db querier, job Job, t *table, endBlock int64) (*Cursor, error) {
	var end *int64
	if t.byCtid() {
		end = &endBlock
	}
	keys := t.keyCols
	if keys == nil {
		keys = []string{}
	}
	c, err := scanCursor(db.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO tidemark.backfill_cursors (job_id, table_name, strategy, key_columns, end_block)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id) DO NOTHING RETURNING `+cursorCols+`)
		SELECT * FROM ins UNION ALL
		SELECT `+cursorCols+` FROM tidemark.backfill_cursors WHERE job_id = $1 AND NOT EXISTS (SELECT FROM ins)`,
		job.ID, t.ident, t.strategy(), keys, end))
	if err != nil {
		return nil, fmt.Errorf("open backfill cursor %s: %w", job.ID, err)
	}
	if c.Table != t.ident || c.Strategy != t.strategy() || !slices.Equal(c.KeyColumns, keys) {
		return nil, fmt.Errorf("%w: job %s has a cursor on %s by %s %v, the table is now %s by %s %v",
			ErrCursorMismatch, job.ID, c.Table, c.Strategy, c.KeyColumns, t.ident, t.strategy(), keys)
	}
	return c, nil
}

// saveCursor records a ctid batch inside the batch's transaction, with the
// transaction's id, so that row versions this batch moves further into the
// table are not updated again. (Keyset batches save theirs in their one
// statement: see buildStmts.)
func saveCursor(ctx context.Context, tx pgx.Tx, jobID string, last []string, rows int64, done bool) error {
	_, err := tx.Exec(ctx, `UPDATE tidemark.backfill_cursors SET last_key = $2, rows = rows + $3, batches = batches + 1,
		done = $4, updated_at = now(), finished_at = CASE WHEN $4 THEN now() END,
		own_xids = CASE WHEN NOT $4 THEN own_xids || (pg_current_xact_id()::text::bigint % 4294967296) ELSE own_xids END
		WHERE job_id = $1`, jobID, last, rows, done)
	if err != nil {
		return fmt.Errorf("save backfill cursor: %w", err)
	}
	return nil
}
