package expandcontract

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/errkind"
)

// VerifyReport is the result of checking new = up(old) on every row.
type VerifyReport struct {
	Checks     int        `json:"checks"`
	Rows       int64      `json:"rows"`
	Mismatches int64      `json:"mismatches"`
	Samples    []Mismatch `json:"samples,omitempty"`
}

// Mismatch is one row where the new column differs from up(old).
type Mismatch struct {
	Table    string `json:"table"`
	Column   string `json:"column"`
	Key      string `json:"key"`
	Got      string `json:"got"`
	Expected string `json:"expected"`
}

// VerifyError carries the report of a failed verify (exit 4).
type VerifyError struct{ Report *VerifyReport }

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d row(s) where the new column differs from up(old)", e.Report.Mismatches)
	for _, m := range e.Report.Samples {
		fmt.Fprintf(&b, "; %s.%s key %s: got %s, up(old) gives %s", m.Table, m.Column, m.Key, m.Got, m.Expected)
	}
	return b.String()
}

// Unwrap makes errors.Is match ErrVerify and errkind.ErrProblemsFound.
func (e *VerifyError) Unwrap() []error { return []error{ErrVerify, errkind.ErrProblemsFound} }

// RunVerify checks every VerifyCheck of plan on every row.
func RunVerify(ctx context.Context, pool *pgxpool.Pool, plan *Plan) (*VerifyReport, error) {
	r := &VerifyReport{}
	d := Postgres{}
	for _, c := range plan.Verify {
		var typ string
		err := pool.QueryRow(ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
			WHERE attrelid = $1::regclass AND attname = $2 AND NOT attisdropped`, d.Table(plan.Schema, c.Table), c.Column).Scan(&typ)
		if err != nil {
			return nil, fmt.Errorf("verify %s.%s: %w", c.Table, c.Column, err)
		}
		keys := make([]string, len(c.Key))
		for i, k := range c.Key {
			if k == "ctid" {
				keys[i] = "ctid::text"
			} else {
				keys[i] = d.Quote(k) + "::text"
			}
		}
		col := d.Quote(c.Column)
		exp := "CAST((" + c.Up + ") AS " + typ + ")"
		from := " FROM " + d.Table(plan.Schema, c.Table) + " WHERE " + col + " IS DISTINCT FROM " + exp
		var total, bad int64
		if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM "+d.Table(plan.Schema, c.Table)+"), (SELECT count(*)"+from+")").Scan(&total, &bad); err != nil {
			return nil, fmt.Errorf("verify %s.%s: %w", c.Table, c.Column, err)
		}
		r.Checks++
		r.Rows += total
		r.Mismatches += bad
		if bad == 0 {
			continue
		}
		rows, err := pool.Query(ctx, "SELECT concat_ws(',', "+strings.Join(keys, ", ")+"), coalesce("+col+"::text, 'NULL'), coalesce(("+exp+")::text, 'NULL')"+from+" LIMIT 5")
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m := Mismatch{Table: c.Table, Column: c.Column}
			if err := rows.Scan(&m.Key, &m.Got, &m.Expected); err != nil {
				rows.Close()
				return nil, err
			}
			r.Samples = append(r.Samples, m)
		}
		rows.Close()
	}
	return r, nil
}
