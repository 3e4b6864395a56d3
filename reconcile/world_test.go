package reconcile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/fixtures/env"
)

func TestMain(m *testing.M) { env.Main(m) }

// world is a small generated shop: orders and order lines (PostgreSQL),
// payments and invoice lines (another PostgreSQL database), stock per SKU
// (MongoDB), with known injected breaks.
type world struct {
	orders, payments, inventory string // URLs
	dir                         string
	rulesFile                   string
}

func uuidN(prefix string, i int) string { return fmt.Sprintf("%s-0000-4000-8000-%012d", prefix, i) }

// n orders: id uuid; every 7th is CANCELLED, else PAID. Injected:
//
//	o1 payment amount off by 1 cent; o2 payment missing; p3 payment without
//	an order; o4 paid twice; o5 cancelled but captured; o6 payment PENDING;
//	SKU "sku-b" stock reserved 7 (lines sum 5); SKU "Zeta" has open lines
//	but no stock document; invoice line (o8,2) quantity differs; invoice
//	line (o9,1) missing; SKU "Äpfel" on_hand differs.
func newWorld(t *testing.T, n int) *world {
	t.Helper()
	w := &world{orders: env.PostgresDB(t), payments: env.PostgresDB(t), inventory: env.MongoDB(t), dir: t.TempDir()}
	ctx := context.Background()
	execAll(t, w.orders,
		`CREATE TABLE orders (id uuid PRIMARY KEY, status text NOT NULL, total_cents bigint NOT NULL, paid_at timestamptz, note text)`,
		`CREATE TABLE order_lines (order_id uuid, line_no int, sku text NOT NULL, quantity int NOT NULL, status text NOT NULL, PRIMARY KEY (order_id, line_no))`,
		`CREATE TABLE skus (sku text PRIMARY KEY, on_hand int NOT NULL, location text)`,
		`CREATE TABLE inventory_outbox (event_id text PRIMARY KEY, event_type text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`)
	execAll(t, w.payments,
		`CREATE TABLE payments (id uuid PRIMARY KEY, order_id uuid NOT NULL, status text NOT NULL, amount numeric(12,4) NOT NULL, captured_at timestamp(3))`,
		`CREATE TABLE invoice_lines (order_id uuid, line_no int, quantity int NOT NULL, PRIMARY KEY (order_id, line_no))`)
	oc, pc := connect(t, w.orders), connect(t, w.payments)
	skus := []string{"sku-a", "sku-b", "SKU-C", "Äpfel", "apple", "Zeta"}
	base := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		id := uuidN("00000000", i)
		status := "PAID"
		if i%7 == 0 {
			status = "CANCELLED"
		}
		cents := int64(1000 + i*37%5000)
		paid := base.Add(time.Duration(i)*time.Minute + time.Duration(i*7919%1000000)*time.Microsecond)
		mustExec(t, oc, `INSERT INTO orders VALUES ($1, $2, $3, $4, NULL)`, id, status, cents, paid)
		for l := 1; l <= 2; l++ {
			sku := skus[(i+l)%5] // never "Zeta"
			lstatus := "SHIPPED"
			if i%3 == 0 && status == "PAID" {
				lstatus = "OPEN"
			}
			mustExec(t, oc, `INSERT INTO order_lines VALUES ($1, $2, $3, $4, $5)`, id, l, sku, l, lstatus)
			mustExec(t, pc, `INSERT INTO invoice_lines VALUES ($1, $2, $3)`, id, l, l)
		}
		if status == "PAID" || i == 5 {
			amount := fmt.Sprintf("%d.%02d", cents/100, cents%100)
			if i%10 == 3 {
				amount += "4" // 4th decimal below a cent: not a break
			}
			mustExec(t, pc, `INSERT INTO payments VALUES ($1, $2, 'CAPTURED', $3::numeric, $4::timestamptz AT TIME ZONE 'UTC')`, uuidN("11111111", i), id, amount, paid)
		}
	}
	w.inject(t, oc, pc)
	w.seedStock(ctx, t, oc)
	return w
}

func (w *world) inject(t *testing.T, oc, pc *pgx.Conn) {
	mustExec(t, pc, `UPDATE payments SET amount = amount + 0.01 WHERE order_id = $1`, uuidN("00000000", 1))
	mustExec(t, pc, `DELETE FROM payments WHERE order_id = $1`, uuidN("00000000", 2))
	mustExec(t, pc, `INSERT INTO payments VALUES ($1, $2, 'CAPTURED', 12.5, now())`, uuidN("11111111", 99999), uuidN("00000000", 99999))
	mustExec(t, pc, `INSERT INTO payments SELECT $1, order_id, status, amount, captured_at FROM payments WHERE order_id = $2`, uuidN("22222222", 4), uuidN("00000000", 4))
	mustExec(t, oc, `UPDATE orders SET status = 'CANCELLED' WHERE id = $1`, uuidN("00000000", 5))
	mustExec(t, pc, `UPDATE payments SET status = 'PENDING' WHERE order_id = $1`, uuidN("00000000", 6))
	mustExec(t, pc, `UPDATE invoice_lines SET quantity = 9 WHERE order_id = $1 AND line_no = 2`, uuidN("00000000", 8))
	mustExec(t, pc, `DELETE FROM invoice_lines WHERE order_id = $1 AND line_no = 1`, uuidN("00000000", 9))
	mustExec(t, oc, `INSERT INTO order_lines VALUES ($1, 3, 'Zeta', 4, 'OPEN')`, uuidN("00000000", 3))
	mustExec(t, pc, `INSERT INTO invoice_lines VALUES ($1, 3, 4)`, uuidN("00000000", 3))
	mustExec(t, oc, `INSERT INTO skus VALUES ('Zeta', 0, NULL)`)
}

// seedStock writes one stock document per SKU with reserved = the sum of
// its open lines (except injected breaks), and the skus table.
func (w *world) seedStock(ctx context.Context, t *testing.T, oc *pgx.Conn) {
	rows, err := oc.Query(ctx, `SELECT s, coalesce((SELECT sum(quantity) FROM order_lines WHERE sku = s AND status = 'OPEN'), 0)
		FROM unnest(ARRAY['sku-a','sku-b','SKU-C','Äpfel','apple']) AS s`)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		S string
		N int64
	}])
	if err != nil {
		t.Fatal(err)
	}
	coll := mongoColl(t, w.inventory, "stock")
	for i, s := range sums {
		reserved := s.N
		if s.S == "sku-b" {
			reserved = s.N + 2
		}
		onHand := 100 + i
		doc := bson.D{{Key: "_id", Value: s.S}, {Key: "reserved", Value: reserved}, {Key: "on_hand", Value: int32(onHand)}}
		if s.S == "SKU-C" {
			doc = append(doc, bson.E{Key: "location", Value: nil}) // NULL vs missing: equal
		}
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if s.S == "Äpfel" {
			onHand++
		}
		mustExec(t, oc, `INSERT INTO skus VALUES ($1, $2, NULL)`, s.S, onHand)
	}
}

// expected is the injected set as "invariant/kind/key".
var expected = []string{
	"order_amounts/mismatch/" + uuidN("00000000", 1),
	"order_amounts/missing_right/" + uuidN("00000000", 2),
	"order_amounts/missing_left/" + uuidN("00000000", 99999),
	"order_amounts/duplicate/" + uuidN("00000000", 4),
	"order_amounts/missing_left/" + uuidN("00000000", 5),
	"order_amounts/missing_right/" + uuidN("00000000", 6),
	"paid_orders_captured/missing/" + uuidN("00000000", 2),
	"paid_orders_captured/missing/" + uuidN("00000000", 6),
	"captured_payments_have_order/missing/" + uuidN("00000000", 99999),
	"cancelled_not_captured/unexpected/" + uuidN("00000000", 5),
	"reserved_stock/mismatch/sku-b",
	"reserved_stock/missing_left/Zeta",
	"invoice_lines/mismatch/(" + uuidN("00000000", 8) + ", 2)",
	"invoice_lines/missing_right/(" + uuidN("00000000", 9) + ", 1)",
	"stock_levels/mismatch/Äpfel",
	"stock_levels/missing_right/Zeta",
}

func (w *world) writeRules(t *testing.T) *Rules {
	t.Helper()
	t.Setenv("ORDERS_URL", w.orders)
	t.Setenv("PAYMENTS_URL", w.payments)
	t.Setenv("INVENTORY_URL", w.inventory)
	t.Setenv("EVENTS_FILE", filepath.Join(w.dir, "events.jsonl"))
	data, err := os.ReadFile("testdata/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w.rulesFile = filepath.Join(w.dir, "shop.yaml")
	if err := os.WriteFile(w.rulesFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(strings.NewReader(string(data)), "shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func execAll(t *testing.T, url string, stmts ...string) {
	t.Helper()
	c := connect(t, url)
	for _, s := range stmts {
		mustExec(t, c, s)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func mustExec(t *testing.T, c *pgx.Conn, q string, args ...any) {
	t.Helper()
	if _, err := c.Exec(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func mongoColl(t *testing.T, url, name string) *mongo.Collection {
	t.Helper()
	c, err := mongo.Connect(context.Background(), options.Client().ApplyURI(url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	db := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexByte(db, '?'); i >= 0 {
		db = db[:i]
	}
	return c.Database(db).Collection(name)
}

func findingSet(r *Report) []string {
	var out []string
	for _, b := range r.Breaks {
		out = append(out, b.Invariant+"/"+b.Kind+"/"+b.Key)
	}
	return out
}
