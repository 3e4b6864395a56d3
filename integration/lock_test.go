package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/lock"
)

// TestDeployWaitsForTheServiceLock: while another run holds the service's
// deploy lock, deploy start waits --lock-timeout, then exits 75 naming the
// holder; another service is not affected.
func TestDeployWaitsForTheServiceLock(t *testing.T) {
	ctx := context.Background()
	url := env.PostgresDB(t)
	u, err := dburl.Parse(url, "")
	if err != nil {
		t.Fatal(err)
	}
	held, err := lock.Acquire(ctx, u, "deploy:orders", lock.Options{Holder: lock.Holder{What: "deploy rollback orders"}})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	r := tidemark(t, nil, "deploy", "start", "--database", url, "--service", "orders", "--release", "v1", "--snapshot", "none", "--lock-timeout", "1s").want(t, 75)
	if !strings.Contains(r.stderr, "deploy rollback orders") {
		t.Errorf("the error should name the holder: %s", r.stderr)
	}
	tidemark(t, nil, "deploy", "start", "--database", url, "--service", "payments", "--release", "v1", "--snapshot", "none", "--lock-timeout", "1s").want(t, 0)
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	tidemark(t, nil, "deploy", "start", "--database", url, "--service", "orders", "--release", "v1", "--snapshot", "none").want(t, 0)
}
