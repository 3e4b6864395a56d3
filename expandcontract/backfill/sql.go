package backfill

import (
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// stmts are the SQL texts of one job. They are fixed for the whole run, so
// pgx's statement cache prepares each once per connection.
//
// A keyset batch is ONE statement (one round trip, atomic without an
// explicit transaction): it finds the batch's upper bound with an index scan
// (ORDER BY key OFFSET n-1 LIMIT 1), updates the key range (last, upper] and
// saves the cursor. Measured on 1M rows, the range update beat
// `UPDATE ... WHERE key IN (SELECT ... LIMIT n)` (95% against 65% of a single
// UPDATE) and `WHERE ctid = ANY(ARRAY(...))` (89%). When no upper bound is
// left, the final statement updates everything after the cursor and marks
// the job done.
//
// Parameters: $1 job ID; batch: $2 offset (n-1), $3.. last key; final: $2..
// last key. The First variants have no last key.
type stmts struct {
	batchFirst, batchNext string
	finalFirst, finalNext string
	updBlocks             string // ctid: $1 from block, $2 to block, $3 own xids
}

func buildStmts(t *table, job Job) stmts {
	set := job.Set
	if set == "" {
		c := pgx.Identifier{t.touch}.Sanitize()
		set = c + " = " + c
	}
	where := ""
	if job.Where != "" {
		where = "(" + job.Where + ")"
	}
	upd := "UPDATE " + t.ident + " SET " + set
	filter := ""
	if job.Filter != "" {
		filter = "(" + job.Filter + ")"
	}
	if t.byCtid() {
		return stmts{updBlocks: upd + " WHERE " + and(
			"ctid >= format('(%s,0)', $1::bigint)::tid",
			"ctid < format('(%s,0)', $2::bigint)::tid",
			"NOT (xmin::text::bigint = ANY($3::bigint[]))", where, filter)}
	}
	k := keySQL(t)
	batch := func(lower string) string {
		return "WITH bound AS MATERIALIZED (SELECT " + k.aliased + " FROM " + t.ident + wherePrefix(and(lower, where)) +
			" ORDER BY " + k.list + " OFFSET $2 LIMIT 1),\n" +
			"upd AS (" + upd + wherePrefix(and(lower, k.row+" <= "+k.bound, where, filter)) + " RETURNING 1),\n" +
			"cur AS (UPDATE tidemark.backfill_cursors SET last_key = (SELECT " + k.texts + " FROM bound),\n" +
			"  rows = rows + (SELECT count(*) FROM upd), batches = batches + 1, updated_at = now()\n" +
			"  WHERE job_id = $1 AND EXISTS (SELECT FROM bound))\n" +
			"SELECT (SELECT count(*) FROM upd), (SELECT " + k.texts + " FROM bound)"
	}
	final := func(lower string) string {
		return "WITH upd AS (" + upd + wherePrefix(and(lower, where, filter)) + " RETURNING 1),\n" +
			"cur AS (UPDATE tidemark.backfill_cursors SET rows = rows + (SELECT count(*) FROM upd), batches = batches + 1,\n" +
			"  done = true, updated_at = now(), finished_at = now() WHERE job_id = $1)\n" +
			"SELECT count(*) FROM upd"
	}
	return stmts{
		batchFirst: batch(""),
		batchNext:  batch(k.row + " > " + params(t.keyTypes, 3)),
		finalFirst: final(""),
		finalNext:  final(k.row + " > " + params(t.keyTypes, 2)),
	}
}

// keyParts are the pieces of SQL naming the walk key.
type keyParts struct {
	list    string // "a", "b"
	row     string // ("a", "b")
	aliased string // "a" AS _tm_k0, "b" AS _tm_k1 (aliases: ORDER BY must see the columns)
	bound   string // ((SELECT _tm_k0 FROM bound), (SELECT _tm_k1 FROM bound))
	texts   string // ARRAY[_tm_k0::text, _tm_k1::text]
}

func keySQL(t *table) keyParts {
	n := len(t.keyCols)
	cols, aliased, bound, texts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, c := range t.keyCols {
		cols[i] = pgx.Identifier{c}.Sanitize()
		aliased[i] = fmt.Sprintf("%s AS _tm_k%d", cols[i], i)
		bound[i] = fmt.Sprintf("(SELECT _tm_k%d FROM bound)", i)
		texts[i] = fmt.Sprintf("_tm_k%d::text", i)
	}
	return keyParts{
		list:    strings.Join(cols, ", "),
		row:     "(" + strings.Join(cols, ", ") + ")",
		aliased: strings.Join(aliased, ", "),
		bound:   "(" + strings.Join(bound, ", ") + ")",
		texts:   "ARRAY[" + strings.Join(texts, ", ") + "]",
	}
}

// params renders ($i::type1, $i+1::type2, ...).
func params(types []string, from int) string {
	p := make([]string, len(types))
	for i, typ := range types {
		p[i] = fmt.Sprintf("$%d::%s", from+i, typ)
	}
	return "(" + strings.Join(p, ", ") + ")"
}

func and(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, " AND ")
}

func wherePrefix(cond string) string {
	if cond == "" {
		return ""
	}
	return " WHERE " + cond
}
