package expandcontract

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// On CockroachDB the contract's swap of a table runs one statement per
// transaction, each followed by a wait for its schema-change job:
// CockroachDB restricts several schema changes of one table in one
// transaction (a dropped column's name cannot be reused before the drop's
// job is done). The new version's views are dropped during the swap (see
// cockroach_views.go) and old-version clients are gone (drain check), so
// no client sees the table between two statements. Each statement is
// idempotent on a re-run: DROP ... IF EXISTS, SET NOT NULL, and renames
// whose target already exists are skipped.

var (
	dropColumnRE = regexp.MustCompile(`^ALTER TABLE ("(?:[^"]|"")*"\."(?:[^"]|"")*") DROP COLUMN IF EXISTS ("(?:[^"]|"")*")$`)
	renameColRE  = regexp.MustCompile(`^ALTER TABLE ("(?:[^"]|"")*"\."(?:[^"]|"")*") RENAME COLUMN ("(?:[^"]|"")*") TO ("(?:[^"]|"")*")$`)
	renameRE     = regexp.MustCompile(`^ALTER (TABLE|INDEX) ("(?:[^"]|"")*"\."(?:[^"]|"")*")(?:@\S+)? RENAME (?:COLUMN "(?:[^"]|"")*" )?TO ("(?:[^"]|"")*")$`)
	qualifiedRE  = regexp.MustCompile(`^("(?:[^"]|"")*")\.("(?:[^"]|"")*")$`)
)

func isSwapAction(a Action) bool { return len(a.ID) > 5 && a.ID[:5] == "swap/" }

func (d Cockroach) runSwap(ctx context.Context, pool *pgxpool.Pool, a Action) error {
	table := a.ID[len("swap/"):]
	skip, err := swapDone(ctx, pool, a.SQL)
	if err != nil {
		return err
	}
	for i, s := range a.SQL {
		if skip[i] {
			continue
		}
		if err := d.swapStmt(ctx, pool, s); err != nil {
			return fmt.Errorf("%w\n  in: %s", err, s)
		}
		if d.noJobWaits {
			continue
		}
		if err := d.WaitJobs(ctx, pool, jobsQuery([]string{table}), time.Second, nil); err != nil {
			return err
		}
	}
	return nil
}

// swapStmt runs one swap statement; a rename already done is skipped.
func (d Cockroach) swapStmt(ctx context.Context, pool *pgxpool.Pool, s string) error {
	_, err := pool.Exec(ctx, s)
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) || (pe.Code != "42703" && pe.Code != "42704") {
		return err
	}
	m := renameRE.FindStringSubmatch(s)
	if m == nil {
		return err
	}
	done, qerr := renamed(ctx, pool, m[1] == "INDEX", m[2], stripQuotes(m[3]))
	if qerr != nil || !done {
		return err
	}
	return nil // the rename happened in an earlier, interrupted run
}

// renamed tells whether the column (or index) name exists on table.
func renamed(ctx context.Context, pool *pgxpool.Pool, index bool, table, target string) (bool, error) {
	sch, tbl, ok := splitQualified(table)
	if !ok {
		return false, nil
	}
	q := `SELECT count(*) FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3`
	if index {
		q = `SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname = $3`
	}
	var n int
	err := pool.QueryRow(ctx, q, sch, tbl, target).Scan(&n)
	return n > 0, err
}

func splitQualified(s string) (schema, table string, ok bool) {
	m := qualifiedRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	return stripQuotes(m[1]), stripQuotes(m[2]), true
}

// swapDone finds the drops an interrupted run already followed by their
// rename: DROP COLUMN IF EXISTS c before RENAME COLUMN tmp TO c must not run
// again once tmp is gone and c exists (it would drop the new column).
func swapDone(ctx context.Context, pool *pgxpool.Pool, stmts []string) (map[int]bool, error) {
	skip := map[int]bool{}
	for i, s := range stmts {
		m := renameColRE.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		src, err := renamed(ctx, pool, false, m[1], stripQuotes(m[2]))
		if err != nil {
			return nil, err
		}
		dst, err := renamed(ctx, pool, false, m[1], stripQuotes(m[3]))
		if err != nil {
			return nil, err
		}
		if src || !dst {
			continue
		}
		for j := 0; j < i; j++ {
			if d := dropColumnRE.FindStringSubmatch(stmts[j]); d != nil && d[1] == m[1] && d[2] == m[3] {
				skip[j] = true
			}
		}
	}
	return skip, nil
}
