package migrator

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/internal/lock"
)

func openErr(t *testing.T, raw, dir string) error {
	t.Helper()
	u, err := dburl.Parse(raw, "")
	if err != nil {
		return err
	}
	m, err := Open(context.Background(), u, Options{Source: dir})
	if err == nil {
		m.Close(context.Background())
	}
	return err
}

func TestBadSourceDirectories(t *testing.T) {
	raw := env.PostgresDB(t)
	cases := map[string]struct {
		dir  string
		want string
	}{
		"missing":    {"/nonexistent/migrations", "does not exist"},
		"a file":     {filepath.Join(writeFiles(t, map[string]string{"f": ""}), "f"), "not a directory"},
		"duplicate":  {writeFiles(t, map[string]string{"001_a.up.sql": "", "1_b.up.sql": ""}), "duplicate migration version 1"},
		"unparsable": {writeFiles(t, map[string]string{"1a_x.up.sql": ""}), "1a_x.up.sql: unparsable"},
		"overflow":   {writeFiles(t, map[string]string{"99999999999999999999999_x.up.sql": ""}), "unparsable"},
		"down only":  {writeFiles(t, map[string]string{"002_x.down.sql": ""}), "no up file"},
		"wrong kind": {writeFiles(t, map[string]string{"001_x.up.json": "[]"}), "takes .sql migration files"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := openErr(t, raw, c.dir)
			if !errors.Is(err, ErrSource) || errkind.ExitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v (exit %d), want exit 2 with %q", err, errkind.ExitCode(err), c.want)
			}
		})
	}
}

func TestUnreachableAndWrongPassword(t *testing.T) {
	dir := writeFiles(t, basic)
	err := openErr(t, "postgres://tm:s3cret-pw@127.0.0.1:1/app", dir)
	if err == nil || errkind.ExitCode(err) != 1 || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("unreachable: %v", err)
	}
	u, _ := url.Parse(env.PostgresDB(t))
	u.User = url.UserPassword(u.User.Username(), "wrong-Pa55word")
	err = openErr(t, u.String(), dir)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "wrong-Pa55word") {
		t.Fatalf("wrong password: %v", err)
	}
	if _, err := dburl.Parse("postgres//nohost", ""); errkind.ExitCode(err) != 2 {
		t.Fatalf("malformed URL: %v", err)
	}
}

func TestDownWithoutDownFile(t *testing.T) {
	ctx := context.Background()
	m := openPGT(t, env.PostgresDB(t), writeFiles(t, map[string]string{"001_a.up.sql": "CREATE TABLE a (id int);"}), Options{})
	if _, err := m.Up(ctx, 0); err != nil {
		t.Fatal(err)
	}
	_, err := m.Down(ctx, 1)
	if !errors.Is(err, ErrMissingDown) || errkind.ExitCode(err) != 2 || !strings.Contains(err.Error(), "001_a.down.sql") {
		t.Fatalf("down: %v", err)
	}
}

func TestSecondRunWaitsThenFailsNamingHolder(t *testing.T) {
	ctx := context.Background()
	raw := env.PostgresDB(t)
	m := openPGT(t, raw, writeFiles(t, basic), Options{LockTimeout: 500 * time.Millisecond})
	u, _ := dburl.Parse(raw, "")
	held, err := lock.Acquire(ctx, u, LockKey, lock.Options{Holder: lock.Holder{Host: "deploy-box", PID: 777, What: "migrate up"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = m.Up(ctx, 0)
	if errkind.ExitCode(err) != 75 || !strings.Contains(err.Error(), "deploy-box pid 777") || time.Since(start) < 400*time.Millisecond {
		t.Fatalf("second run: %v after %s", err, time.Since(start))
	}
	held.Release(ctx)
	if res, err := m.Up(ctx, 0); err != nil || res.To != 3 {
		t.Fatalf("after release: %+v %v", res, err)
	}
}
