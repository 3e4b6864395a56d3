package expandcontract

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// JobProgress is the state of one CockroachDB schema-change job.
type JobProgress struct {
	ID          int64   `json:"job_id"`
	Status      string  `json:"status"`
	Fraction    float64 `json:"fraction_completed"`
	Description string  `json:"description"`
	Error       string  `json:"error,omitempty"`
}

// pollJobsSQL reads the state of jobs ($1: their IDs).
const pollJobsSQL = `SELECT job_id, status, coalesce(fraction_completed, 0)::FLOAT8, description, coalesce(error, '')
FROM [SHOW JOBS] WHERE job_id = ANY($1::INT8[]) ORDER BY job_id`

// waitJobsQuery is the job filter inside a wait-jobs action's statement.
func waitJobsQuery(stmt string) (string, bool) {
	const prefix = "SHOW JOBS WHEN COMPLETE ("
	if !strings.HasPrefix(stmt, prefix) || !strings.HasSuffix(stmt, ")") {
		return "", false
	}
	return stmt[len(prefix) : len(stmt)-1], true
}

// WaitJobs waits for the unfinished schema-change jobs that filter (a
// SELECT job_id ... query, see the plan's wait-jobs actions) selects,
// calling onProgress every poll with their fraction completed. A job that
// ends failed or canceled is an error.
func (Cockroach) WaitJobs(ctx context.Context, q querier, filter string, every time.Duration, onProgress func([]JobProgress)) error {
	rows, err := q.Query(ctx, filter)
	if err != nil {
		return fmt.Errorf("list schema-change jobs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) == 0 {
		return err
	}
	for {
		rows, err := q.Query(ctx, pollJobsSQL, ids)
		if err != nil {
			return fmt.Errorf("poll schema-change jobs: %w", err)
		}
		jobs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[JobProgress])
		if err != nil {
			return fmt.Errorf("poll schema-change jobs: %w", err)
		}
		if onProgress != nil {
			onProgress(jobs)
		}
		running := false
		for _, j := range jobs {
			switch j.Status {
			case "succeeded":
			case "failed", "canceled", "revert-failed":
				return fmt.Errorf("schema-change job %d %s: %s (%s)", j.ID, j.Status, j.Error, j.Description)
			default:
				running = true
			}
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
