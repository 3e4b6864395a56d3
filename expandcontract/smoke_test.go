package expandcontract

import (
	"github.com/tidemark/tidemark/fixtures/env"
	"testing"
)

func TestSmokeAlterType(t *testing.T) {
	url := env.PostgresDB(t)
	pool := newPool(t, url)
	c := ctx(t)
	mustExec(t, pool, `CREATE TABLE items (id bigserial PRIMARY KEY, price int NOT NULL, name text)`)
	mustExec(t, pool, `INSERT INTO items (price, name) SELECT g, 'n'||g FROM generate_series(1, 100) g`)
	m := mig(t, "m1", `
operations:
  - alter_column:
      table: items
      column: price
      type: numeric(10,2)
      up: price / 100.0
      down: (price * 100)::int
  - add_column:
      table: items
      up: upper(name)
      column: {name: label, type: text, nullable: true}
`)
	res, err := Expand(c, pool, []*Migration{m}, Options{Verify: true})
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	t.Logf("%+v", res)
	newc := versionConn(t, url, "public_m1")
	oldc := versionConn(t, url, "public")
	mustExec(t, oldc, `INSERT INTO items (price, name) VALUES (500, 'x')`)
	mustExec(t, newc, `INSERT INTO items (price, name) VALUES (7.5, 'y')`)
	var p string
	if err := newc.QueryRow(c, `SELECT price::text FROM items WHERE name = 'x'`).Scan(&p); err != nil || p != "5.00" {
		t.Fatalf("new sees %q %v", p, err)
	}
	if err := oldc.QueryRow(c, `SELECT price::text FROM items WHERE name = 'y'`).Scan(&p); err != nil || p != "750" {
		t.Fatalf("old sees %q %v", p, err)
	}
	if err := newc.QueryRow(c, `SELECT label FROM items WHERE id = 3`).Scan(&p); err != nil || p != "N3" {
		t.Fatalf("label %q %v", p, err)
	}
	oldc.Close(c)
	newc.Close(c)
	if _, err := Contract(c, pool, Options{}); err != nil {
		t.Fatalf("contract: %v", err)
	}
	if err := pool.QueryRow(c, `SELECT price::text FROM items WHERE id = 1`).Scan(&p); err != nil || p != "0.01" {
		t.Fatalf("after contract %q %v", p, err)
	}
}
