package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
)

// leaseLock is a lease row with an expiry (CockroachDB, where advisory locks
// do nothing). The SQL is valid PostgreSQL too.
type leaseLock struct {
	conn  *pgx.Conn
	key   string
	token string
	opts  Options
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func openLease(ctx context.Context, target *dburl.URL, key string, opts Options) (backend, error) {
	conn, err := connect(ctx, target)
	if err != nil {
		return nil, err
	}
	return &leaseLock{conn: conn, key: key, token: newToken(), opts: opts}, nil
}

const takeLeaseSQL = `INSERT INTO tidemark.lock_leases AS l (key, token, host, pid, since, what, expires_at)
VALUES ($1, $2, $3, $4, now(), $5, now() + $6::INT8 * INTERVAL '1 millisecond')
ON CONFLICT (key) DO UPDATE SET token = excluded.token, host = excluded.host, pid = excluded.pid,
	since = excluded.since, what = excluded.what, expires_at = excluded.expires_at
WHERE l.expires_at < now() OR l.token = excluded.token
RETURNING since`

func (l *leaseLock) try(ctx context.Context) (bool, Holder, error) {
	h := l.opts.Holder
	err := l.conn.QueryRow(ctx, takeLeaseSQL, l.key, l.token, h.Host, h.PID, h.What, l.opts.Lease.Milliseconds()).Scan(&h.Since)
	if err == nil {
		return true, h, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, Holder{}, err
	}
	var cur Holder
	err = l.conn.QueryRow(ctx, "SELECT host, pid, since, what FROM tidemark.lock_leases WHERE key = $1", l.key).
		Scan(&cur.Host, &cur.PID, &cur.Since, &cur.What)
	if errors.Is(err, pgx.ErrNoRows) {
		err = nil // released between the two statements: the next try takes it
	}
	return false, cur, err
}

func (l *leaseLock) renew(ctx context.Context) error {
	tag, err := l.conn.Exec(ctx, `UPDATE tidemark.lock_leases SET expires_at = now() + $3::INT8 * INTERVAL '1 millisecond'
		WHERE key = $1 AND token = $2`, l.key, l.token, l.opts.Lease.Milliseconds())
	if err == nil && tag.RowsAffected() == 0 {
		err = errLost
	}
	return err
}

func (l *leaseLock) release(ctx context.Context) error {
	_, err := l.conn.Exec(ctx, "DELETE FROM tidemark.lock_leases WHERE key = $1 AND token = $2", l.key, l.token)
	return err
}

func (l *leaseLock) close(ctx context.Context) { _ = l.conn.Close(ctx) }
