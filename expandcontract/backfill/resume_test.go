package backfill_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

// TestResumeAfterCancel cancels a run after k batches (and, in the "mid-batch"
// variant, in the middle of a batch), runs again, and checks that every row
// was updated exactly once and the cursor carried on where it stopped.
func TestResumeAfterCancel(t *testing.T) {
	const rows = 20000
	for _, kc := range []keyCase{keyCases[0], keyCases[1], keyCases[3], keyCases[5]} {
		for _, midBatch := range []bool{false, true} {
			name := kc.name + "/between_batches"
			if midBatch {
				name = kc.name + "/mid_batch"
			}
			t.Run(name, func(t *testing.T) { resumeCase(t, kc, rows, midBatch) })
		}
	}
}

func resumeCase(t *testing.T, kc keyCase, rows int, midBatch bool) {
	pool := openPool(t)
	setupTable(t, pool, kc, rows)
	job := backfill.Job{ID: "resume", Table: "t", Set: kc.set}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := smallBatches()
	const k = 4
	seen := 0
	opts.OnProgress = func(backfill.Progress) {
		if seen++; seen == k {
			if midBatch {
				time.AfterFunc(2*time.Millisecond, cancel)
			} else {
				cancel()
			}
		}
	}
	first, err := backfill.Run(ctx, pool, job, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %+v, %v; want context.Canceled", first, err)
	}
	// A batch statement cut off mid-flight may still commit on the server
	// after Run returned (the job's advisory lock keeps the next run out
	// until it has), so only a cancel between batches pins the exact count.
	if !midBatch {
		cur, err := backfill.Load(context.Background(), pool, job.ID)
		if err != nil || cur == nil {
			t.Fatalf("cursor after cancel: %v, %v", cur, err)
		}
		if cur.Done || cur.Rows != first.Rows || cur.Batches != int64(first.Batches) || first.Batches < k {
			t.Fatalf("cursor %+v does not match the cancelled run %+v", cur, first)
		}
		if done := count(t, pool, `SELECT count(*) FROM t WHERE n = 1`); done != first.Rows {
			t.Fatalf("%d rows updated, cursor says %d", done, first.Rows)
		}
	}
	opts.OnProgress = nil
	second, err := backfill.Run(context.Background(), pool, job, opts)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := backfill.Load(context.Background(), pool, job.ID)
	if err != nil || !cur.Done || cur.Rows != int64(rows) {
		t.Fatalf("final cursor %+v, %v; want done with %d rows", cur, err, rows)
	}
	lost := int64(0) // a batch that committed after its run was cancelled
	if midBatch {
		lost = cur.Batches - int64(first.Batches+second.Batches)
	}
	if lost < 0 || lost > 1 || (lost == 0 && first.Rows+second.Rows != int64(rows)) {
		t.Errorf("runs did %+v and %+v, cursor %d rows in %d batches", first, second, cur.Rows, cur.Batches)
	}
	checkOnce(t, pool, rows)
}

// TestCtidSkipsOwnMovedRows makes the backfill's own updates move rows into
// blocks it has not visited yet (free space there, none in the full blocks
// before), and checks none is updated twice.
func TestCtidSkipsOwnMovedRows(t *testing.T) {
	pool := openPool(t)
	const rows = 20000
	setupTable(t, pool, keyCases[5], rows)
	// Free most of the second half of the table, then let VACUUM record the
	// free space: non-HOT updates of the full first half land there.
	exec(t, pool, `DELETE FROM t WHERE v > 10000 AND v % 10 <> 0`, `VACUUM t`)
	left := count(t, pool, `SELECT count(*) FROM t`)
	res, err := backfill.Run(context.Background(), pool, backfill.Job{ID: "moved", Table: "t", Set: "nv = v * 100"}, smallBatches())
	if err != nil {
		t.Fatal(err)
	}
	moved := count(t, pool, `SELECT count(*) FROM t WHERE v <= 10000 AND (ctid::text::point)[0] > (SELECT max((ctid::text::point)[0]) FROM t WHERE v > 10000) / 2`)
	t.Logf("%d rows, %d updated, %d moved into the second half", left, res.Rows, moved)
	checkOnce(t, pool, int(left))
}
