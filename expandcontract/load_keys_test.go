package expandcontract

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
)

const keyLoadSetup = `CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE orders (id serial PRIMARY KEY, user_id int NOT NULL REFERENCES users (id), total int NOT NULL);
INSERT INTO users (name) SELECT 'u' || g FROM generate_series(1, 20000) g;
INSERT INTO orders (user_id, total) SELECT 1 + g % 20000, g FROM generate_series(1, 20000) g;`

const keyLoadMigration = `
operations:
  - alter_column: {table: users, column: id, type: bigint}
  - alter_column: {table: orders, column: user_id, type: bigint}
`

// orderWrites inserts a user and an order of it, an order of an existing
// user, or updates an order.
func orderWrites(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	switch rand.IntN(3) {
	case 0:
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO users (name) VALUES ('w') RETURNING id`).Scan(&id); err != nil {
			return 0, err
		}
		_, err := pool.Exec(ctx, `INSERT INTO orders (user_id, total) VALUES ($1, 1)`, id)
		return 1, err
	case 1:
		_, err := pool.Exec(ctx, `INSERT INTO orders (user_id, total) VALUES ($1, 2)`, rand.Int64N(20000)+1)
		return 1, err
	}
	_, err := pool.Exec(ctx, `UPDATE orders SET total = total + 1 WHERE id = $1`, rand.Int64N(20000)+1)
	return 0, err
}

// TestConcurrentLoadKeys: a primary key and the foreign key referencing it
// change from integer to bigint: 8 old-version writers during expand and
// backfill, and 8 on the new version from the moment its schema exists
// (during the backfill); the new-version writers keep going through contract.
func TestConcurrentLoadKeys(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, keyLoadSetup)
	old := startWriters(t, url, "public", 8, orderWrites)
	done := make(chan error, 1)
	go func() {
		_, err := Expand(c, pool, []*Migration{mig(t, "m1", keyLoadMigration)}, Options{MaxRate: 20000, TargetBatch: 20 * time.Millisecond})
		done <- err
	}()
	// new-version instances start as soon as their schema exists, while
	// the backfill runs (their writes to rows it has not reached are kept)
	waitSchema(t, pool, "public_m1")
	neu := startWriters(t, url, "public_m1", 8, orderWrites)
	if err := <-done; err != nil {
		t.Fatalf("expand: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	old.halt(t, "old-version")
	res, err := Contract(c, pool, Options{DrainTimeout: 10 * time.Second})
	time.Sleep(200 * time.Millisecond)
	neu.halt(t, "new-version")
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	if res.Verify == nil || res.Verify.Mismatches != 0 {
		t.Errorf("contract verify: %+v", res.Verify)
	}
	h := &hooks{t: t, url: url, version: "public_m1", ctx: c}
	h.noLeftovers()
	h.eq("raw", `SELECT count(*) FROM orders`, fmt.Sprint(20000+old.inserts.Load()+neu.inserts.Load()))
	h.eq("raw", `SELECT count(*) FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL`, "0")
	h.eq("raw", `SELECT string_agg(conname || ':' || convalidated::text, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid IN ('users'::regclass, 'orders'::regclass)`,
		"orders_pkey:true,orders_user_id_fkey:true,users_pkey:true")
	h.eq("raw", `SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attrelid::regclass::text) FROM pg_attribute WHERE (attrelid, attname) IN (('users'::regclass, 'id'), ('orders'::regclass, 'user_id'))`, "bigint,bigint")
}
