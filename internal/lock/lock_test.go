package lock

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestMain(m *testing.M) { env.Main(m) }

func parse(t *testing.T, raw, dialect string) *dburl.URL {
	t.Helper()
	u, err := dburl.Parse(raw, dialect)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// secondWaitsThenFails checks the contract every engine shares: a second
// acquirer waits about the timeout, then fails naming the holder (exit 75),
// and gets the lock once the first releases it.
func secondWaitsThenFails(t *testing.T, u *dburl.URL) {
	ctx := context.Background()
	first, err := Acquire(ctx, u, "migrate", Options{Holder: Holder{Host: "ci-runner-1", PID: 4242, What: "migrate up"}})
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	start := time.Now()
	_, err = Acquire(ctx, u, "migrate", Options{Timeout: 700 * time.Millisecond})
	waited := time.Since(start)
	var he *HeldError
	if !errors.As(err, &he) {
		t.Fatalf("second acquire: got %v, want a HeldError", err)
	}
	if waited < 600*time.Millisecond || waited > 5*time.Second {
		t.Errorf("second acquirer waited %s, want about 700ms", waited)
	}
	if errkind.ExitCode(err) != 75 || !errors.Is(err, ErrHeld) {
		t.Errorf("exit code %d for %v, want 75", errkind.ExitCode(err), err)
	}
	for _, want := range []string{"ci-runner-1", "pid 4242", "since", "migrate up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if he.Holder.Since.IsZero() || time.Since(he.Holder.Since) > time.Minute {
		t.Errorf("holder since = %v", he.Holder.Since)
	}
	// Another key is independent.
	other, err := Acquire(ctx, u, "deploy:orders", Options{})
	if err != nil {
		t.Fatalf("other key: %v", err)
	}
	_ = other.Release(ctx)
	if err := first.Release(ctx); err != nil {
		t.Fatal(err)
	}
	second, err := Acquire(ctx, u, "migrate", Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	if second.Holder.PID != os.Getpid() {
		t.Errorf("holder pid %d, want ours", second.Holder.PID)
	}
	_ = second.Release(ctx)
}

func TestPostgresSecondAcquirerWaitsThenFails(t *testing.T) {
	secondWaitsThenFails(t, parse(t, env.PostgresDB(t), ""))
}

func TestPostgresLockFreedWhenHolderSessionDies(t *testing.T) {
	ctx := context.Background()
	u := parse(t, env.PostgresDB(t), "")
	held, err := Acquire(ctx, u, "migrate", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A crashed holder: its connection goes away without Release.
	held.b.close(ctx)
	again, err := Acquire(ctx, u, "migrate", Options{Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("acquire after the holder died: %v", err)
	}
	_ = again.Release(ctx)
}

func TestLeaseRowSecondAcquirerWaitsThenFails(t *testing.T) {
	// The CockroachDB lease SQL, run on PostgreSQL.
	secondWaitsThenFails(t, parse(t, env.PostgresDB(t), "cockroach"))
}

func TestLeaseRowExpiredIsTakenOver(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	u := parse(t, raw, "cockroach")
	held, err := Acquire(ctx, u, "migrate", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = held.Release(ctx)
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// A lease left by a crashed run, expired a second ago.
	_, err = conn.Exec(ctx, `INSERT INTO tidemark.lock_leases VALUES ('migrate', 'dead', 'gone-host', 1, now() - interval '1 hour', 'migrate up', now() - interval '1 second')`)
	if err != nil {
		t.Fatal(err)
	}
	taken, err := Acquire(ctx, u, "migrate", Options{})
	if err != nil {
		t.Fatalf("take over expired lease: %v", err)
	}
	var host string
	if err := conn.QueryRow(ctx, "SELECT host FROM tidemark.lock_leases WHERE key = 'migrate'").Scan(&host); err != nil {
		t.Fatal(err)
	}
	if host == "gone-host" {
		t.Error("lease row still names the dead holder")
	}
	_ = taken.Release(ctx)
}

func TestMongoSecondAcquirerWaitsThenFails(t *testing.T) {
	secondWaitsThenFails(t, parse(t, env.MongoDB(t), ""))
}

func TestMongoExpiredLeaseIsTakenOverAndRenewed(t *testing.T) {
	ctx := context.Background()
	raw := env.MongoDB(t)
	u := parse(t, raw, "")
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	coll := client.Database("tidemark").Collection("locks")
	t.Cleanup(func() { _, _ = coll.DeleteMany(context.Background(), bson.M{}) })
	now := time.Now().UTC()
	_, err = coll.InsertOne(ctx, leaseDoc{Key: u.Database() + "/deploy:orders", Token: "dead", Host: "gone-host", PID: 1, Since: now.Add(-time.Hour), What: "deploy", ExpiresAt: now.Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	held, err := Acquire(ctx, u, "deploy:orders", Options{Lease: 600 * time.Millisecond})
	if err != nil {
		t.Fatalf("take over expired lease: %v", err)
	}
	// Renewal keeps the short lease alive well past its expiry.
	time.Sleep(1500 * time.Millisecond)
	_, err = Acquire(ctx, u, "deploy:orders", Options{})
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.PID != os.Getpid() {
		t.Fatalf("renewed lease: got %v, want held by pid %s", err, strconv.Itoa(os.Getpid()))
	}
	select {
	case <-held.Lost():
		t.Fatal("lease reported lost")
	default:
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := coll.CountDocuments(ctx, bson.M{"_id": u.Database() + "/deploy:orders"})
	if err != nil || n != 0 {
		t.Fatalf("lease document after release: %d, %v", n, err)
	}
}
