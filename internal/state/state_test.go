package state

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestMain(m *testing.M) { env.Main(m) }

func TestEnsureUpgradesAndRefusesNewer(t *testing.T) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, env.PostgresDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	v1 := Component{Name: "demo", Steps: []string{"CREATE TABLE tidemark.demo(id int)"}}
	v2 := Component{Name: "demo", Steps: append(v1.Steps, "ALTER TABLE tidemark.demo ADD COLUMN note text")}

	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- Ensure(ctx, pool, v1) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Ensure: %v", err)
		}
	}
	if err := Ensure(ctx, pool, v2); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO tidemark.demo(id, note) VALUES (1, 'x')"); err != nil {
		t.Fatalf("upgrade did not add the column: %v", err)
	}
	err = Ensure(ctx, pool, v1)
	if !errors.Is(err, ErrNewerState) || !errors.Is(err, errkind.ErrPrecondition) {
		t.Fatalf("older tidemark on newer state: %v", err)
	}
}
