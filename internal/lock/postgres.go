package lock

import (
	"context"
	"errors"
	"hash/fnv"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/state"
)

// component is the lock package's part of the tidemark state schema.
var component = state.Component{Name: "lock", Steps: []string{
	`CREATE TABLE IF NOT EXISTS tidemark.lock_holders (
		key         text PRIMARY KEY,
		host        text NOT NULL,
		pid         int NOT NULL,
		since       timestamptz NOT NULL,
		what        text NOT NULL,
		backend_pid int NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tidemark.lock_leases (
		key        text PRIMARY KEY,
		token      text NOT NULL,
		host       text NOT NULL,
		pid        int NOT NULL,
		since      timestamptz NOT NULL,
		what       text NOT NULL,
		expires_at timestamptz NOT NULL)`,
}}

// advisoryKey maps a lock key to a 64-bit advisory lock id.
func advisoryKey(key string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tidemark-lock:" + key))
	return int64(h.Sum64())
}

// pgLock is a session advisory lock on a pinned connection.
type pgLock struct {
	conn *pgx.Conn
	key  string
	opts Options
}

func connect(ctx context.Context, target *dburl.URL) (*pgx.Conn, error) {
	conn, err := pgx.Connect(ctx, target.PGX())
	if err != nil {
		return nil, err
	}
	if err := state.Ensure(ctx, conn, component); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return conn, nil
}

func openPostgres(ctx context.Context, target *dburl.URL, key string, opts Options) (backend, error) {
	conn, err := connect(ctx, target)
	if err != nil {
		return nil, err
	}
	return &pgLock{conn: conn, key: key, opts: opts}, nil
}

func (l *pgLock) try(ctx context.Context) (bool, Holder, error) {
	var ok bool
	if err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", advisoryKey(l.key)).Scan(&ok); err != nil {
		return false, Holder{}, err
	}
	if !ok {
		h, err := l.holder(ctx)
		return false, h, err
	}
	h := l.opts.Holder
	err := l.conn.QueryRow(ctx, `INSERT INTO tidemark.lock_holders(key, host, pid, since, what, backend_pid)
		VALUES ($1, $2, $3, now(), $4, pg_backend_pid())
		ON CONFLICT (key) DO UPDATE SET host = excluded.host, pid = excluded.pid, since = excluded.since,
			what = excluded.what, backend_pid = excluded.backend_pid
		RETURNING since`, l.key, h.Host, h.PID, h.What).Scan(&h.Since)
	if err != nil {
		_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey(l.key))
		return false, Holder{}, err
	}
	return true, h, nil
}

// holder reads the holder row; a row left by a crashed run whose session is
// gone is not trusted (zero Holder).
func (l *pgLock) holder(ctx context.Context) (Holder, error) {
	var h Holder
	err := l.conn.QueryRow(ctx, `SELECT host, pid, since, what FROM tidemark.lock_holders
		WHERE key = $1 AND backend_pid IN (SELECT pid FROM pg_stat_activity)`, l.key).Scan(&h.Host, &h.PID, &h.Since, &h.What)
	if errors.Is(err, pgx.ErrNoRows) {
		return Holder{}, nil
	}
	return h, err
}

func (l *pgLock) renew(context.Context) error { return nil }

func (l *pgLock) release(ctx context.Context) error {
	_, err := l.conn.Exec(ctx, "DELETE FROM tidemark.lock_holders WHERE key = $1 AND backend_pid = pg_backend_pid()", l.key)
	if err != nil {
		return err
	}
	_, err = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey(l.key))
	return err
}

func (l *pgLock) close(ctx context.Context) { _ = l.conn.Close(ctx) }
