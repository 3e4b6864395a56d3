package migrator

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/records"
)

func TestUpRecordsDeployment(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	dir := writeFiles(t, map[string]string{"001_a.up.sql": "CREATE TABLE a (id int);", "002_b.up.sql": "SELECT 1/0;"})
	m := openPGT(t, raw, dir, Options{Deployment: &Deployment{Service: "orders", Release: "v42"}})
	res, err := m.Up(ctx, 0)
	if err == nil || res.Deployment == nil || res.Deployment.Result != records.Failed {
		t.Fatalf("up: %+v %v", res, err)
	}
	writeTo(t, dir, "002_b.up.sql", "SELECT 1;")
	m2 := openPGT(t, raw, dir, Options{Deployment: &Deployment{Service: "orders", Release: "v42"}})
	if res, err = m2.Up(ctx, 0); err != nil || res.Deployment.Result != records.Succeeded || res.Deployment.Attempts != 2 {
		t.Fatalf("re-run: %+v %v", res.Deployment, err)
	}
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	st, err := records.Open(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.LatestDeployment(ctx, "orders")
	if err != nil || d.Release != "v42" || d.Result != records.Succeeded || d.FinishedAt == nil {
		t.Fatalf("latest deployment: %+v %v", d, err)
	}
	svcs, _ := st.ListServices(ctx)
	if len(svcs) != 1 || svcs[0].Status != records.StatusDeployed {
		t.Fatalf("services: %+v", svcs)
	}
}
