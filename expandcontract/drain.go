package expandcontract

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Session is a client session tied to a schema version.
type Session struct {
	PID          int       `json:"pid"`
	User         string    `json:"user"`
	Application  string    `json:"application_name"`
	Client       string    `json:"client"`
	State        string    `json:"state"`
	BackendStart time.Time `json:"backend_start"`
	// Via says how the session is tied to the version: "application_name"
	// (it ends with "@<version schema>") or "role search_path" (its role has
	// search_path set to the version schema for this database).
	Via string `json:"via"`
}

func (s Session) String() string {
	return fmt.Sprintf("pid %d (user %s, application_name %q, client %s, %s, via %s)", s.PID, s.User, s.Application, s.Client, s.State, s.Via)
}

// DrainError lists the sessions still on a version.
type DrainError struct {
	Version  string
	Sessions []Session
}

func (e *DrainError) Error() string {
	parts := make([]string, len(e.Sessions))
	for i, s := range e.Sessions {
		parts[i] = s.String()
	}
	return fmt.Sprintf("%d session(s) still use version %s: %s", len(e.Sessions), e.Version, strings.Join(parts, "; "))
}

// Unwrap makes errors.Is match ErrSessionsOnVersion and errkind.ErrPrecondition.
func (e *DrainError) Unwrap() []error { return []error{ErrSessionsOnVersion, errkind.ErrPrecondition} }

// Sessions lists the sessions of the current database tied to version:
// application_name ending in "@"+version, or a role whose per-role (or
// per-role-and-database) search_path starts with version.
func Sessions(ctx context.Context, q querier, version string) ([]Session, error) {
	rows, err := q.Query(ctx, `
SELECT a.pid, coalesce(a.usename, ''), coalesce(a.application_name, ''),
       coalesce(host(a.client_addr), 'local'), coalesce(a.state, ''), a.backend_start,
       CASE WHEN right(a.application_name, length($1) + 1) = '@' || $1 THEN 'application_name' ELSE 'role search_path' END
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
  AND (right(a.application_name, length($1) + 1) = '@' || $1
   OR EXISTS (SELECT 1 FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) c
              WHERE r.rolname = a.usename
                AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
                AND c LIKE 'search_path=%'
                AND split_part(replace(replace(substr(c, 13), '"', ''), ' ', ''), ',', 1) = $1))
ORDER BY a.pid`, version)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Session, error) {
		var s Session
		err := r.Scan(&s.PID, &s.User, &s.Application, &s.Client, &s.State, &s.BackendStart, &s.Via)
		return s, err
	})
}

// Drain waits up to timeout for the sessions on version to end; it fails
// with a *DrainError naming them (exit 3) if some remain.
func Drain(ctx context.Context, pool *pgxpool.Pool, version string, timeout time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(timeout)
	for {
		ss, err := Sessions(ctx, pool, version)
		if err != nil {
			return err
		}
		if len(ss) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return &DrainError{Version: version, Sessions: ss}
		}
		log.Info("waiting for sessions on the version to end", "version", version, "sessions", len(ss))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
