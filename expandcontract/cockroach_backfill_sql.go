package expandcontract

import (
	"fmt"
	"strings"

	"github.com/tidemark/tidemark/internal/state"
)

// crdbCursors is the state of the CockroachDB backfill: one row per job,
// saved in the same transaction as each batch.
var crdbCursors = state.Component{Name: "ec_crdb_backfill", Steps: []string{
	`CREATE TABLE IF NOT EXISTS tidemark.ec_crdb_cursors (
		job_id     TEXT PRIMARY KEY,
		last_key   TEXT[],
		rows_done  BIGINT NOT NULL DEFAULT 0,
		batches    BIGINT NOT NULL DEFAULT 0,
		finished   BOOLEAN NOT NULL DEFAULT false,
		updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`,
}}

// KeyColumn is one column of the key a backfill walks (the primary key).
type KeyColumn struct{ Name, Type string }

// crdbBackfillSQL are the statements of one CockroachDB backfill job.
//
// The next batch's upper bound is read AS OF SYSTEM TIME (a follower read:
// no contention with writers, served by any replica), outside the write
// transaction; the batch then updates (last, bound] in a short transaction
// that also saves the cursor. A stale bound only changes the batch's size:
// the UPDATE reads current data, and the last batch has no upper bound.
type crdbBackfillSQL struct {
	BoundFirst, BoundNext string // $1 = offset (n-1); BoundNext: $2.. = last key
	UpdFirst, UpdFirstTo  string // first batch: all, or key <= $1..
	UpdNext, UpdNextTo    string // key > $1.., and key > $1.. AND key <= $k+1..
	SaveCursor            string // $1 job, $2 last key (text[]), $3 rows, $4 finished
	LoadCursor            string // $1 job
}

func (d Cockroach) backfillSQL(job BackfillJob, key []KeyColumn) crdbBackfillSQL {
	tbl := d.Table(job.Schema, job.Table)
	cols := make([]string, len(key))
	texts := make([]string, len(key))
	for i, k := range key {
		cols[i] = d.Quote(k.Name)
		texts[i] = cols[i] + "::TEXT"
	}
	row := "(" + strings.Join(cols, ", ") + ")"
	order := strings.Join(cols, ", ")
	bound := func(where string) string {
		return "SELECT " + strings.Join(texts, ", ") + " FROM " + tbl + d.asOf() + where + " ORDER BY " + order + " OFFSET $1 LIMIT 1"
	}
	upd := "UPDATE " + tbl + " SET " + job.Set
	where := func(conds ...string) string { // with the job's filter (rows not filled yet)
		if job.Filter != "" {
			conds = append(conds, "("+job.Filter+")")
		}
		if len(conds) == 0 {
			return upd
		}
		return upd + " WHERE " + strings.Join(conds, " AND ")
	}
	gt := row + " > " + keyParams(key, 1)
	return crdbBackfillSQL{
		BoundFirst: bound(""),
		BoundNext:  bound(" WHERE " + row + " > " + keyParams(key, 2)),
		UpdFirst:   where(),
		UpdFirstTo: where(row + " <= " + keyParams(key, 1)),
		UpdNext:    where(gt),
		UpdNextTo:  where(gt, row+" <= "+keyParams(key, len(key)+1)),
		SaveCursor: `INSERT INTO tidemark.ec_crdb_cursors (job_id, last_key, rows_done, batches, finished, updated_at)
VALUES ($1, $2, $3, 1, $4, now())
ON CONFLICT (job_id) DO UPDATE SET last_key = excluded.last_key, rows_done = ec_crdb_cursors.rows_done + excluded.rows_done,
	batches = ec_crdb_cursors.batches + 1, finished = excluded.finished, updated_at = now()`,
		LoadCursor: `SELECT last_key, rows_done, finished FROM tidemark.ec_crdb_cursors WHERE job_id = $1`,
	}
}

// keyParams renders ($i::type1, $i+1::type2, ...).
func keyParams(key []KeyColumn, from int) string {
	p := make([]string, len(key))
	for i, k := range key {
		p[i] = fmt.Sprintf("$%d::%s", from+i, k.Type)
	}
	return "(" + strings.Join(p, ", ") + ")"
}

// primaryKeySQL lists the primary key's columns and types ($1 schema,
// $2 table); information_schema answers the same on both databases (a
// CockroachDB table without a declared key shows its hidden rowid).
const primaryKeySQL = `SELECT k.column_name, c.data_type
FROM information_schema.table_constraints t
JOIN information_schema.key_column_usage k
  ON k.constraint_schema = t.constraint_schema AND k.constraint_name = t.constraint_name AND k.table_name = t.table_name
JOIN information_schema.columns c
  ON c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = k.column_name
WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_schema = $1 AND t.table_name = $2
ORDER BY k.ordinal_position`
