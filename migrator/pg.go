package migrator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/state"
)

// component is the migrator's part of the tidemark state schema.
var component = state.Component{Name: "migrator", Steps: []string{
	`CREATE TABLE tidemark.migrate_versions (
		version    bigint PRIMARY KEY,
		name       text NOT NULL,
		checksum   text NOT NULL,
		applied_at timestamptz NOT NULL,
		history_id bigint NOT NULL)`,
	`CREATE TABLE tidemark.migrate_history (
		id               BIGSERIAL PRIMARY KEY,
		version          bigint NOT NULL,
		name             text NOT NULL,
		direction        text NOT NULL,
		file             text NOT NULL,
		checksum         text NOT NULL,
		started_at       timestamptz NOT NULL,
		finished_at      timestamptz,
		duration_ms      bigint NOT NULL DEFAULT 0,
		host             text NOT NULL,
		db_user          text NOT NULL,
		result           text NOT NULL,
		error            text NOT NULL DEFAULT '',
		failed_statement text NOT NULL DEFAULT '',
		failed_line      int NOT NULL DEFAULT 0,
		failed_index     int NOT NULL DEFAULT 0,
		statements_done  int NOT NULL DEFAULT 0,
		statements_total int NOT NULL,
		resumed_from     int NOT NULL DEFAULT 0,
		transactional    bool NOT NULL,
		done_checksum    text NOT NULL DEFAULT '')`,
	`CREATE INDEX migrate_history_version ON tidemark.migrate_history (version, direction, id)`,
}}

// pgEngine runs SQL migrations on PostgreSQL and CockroachDB with pgx.
type pgEngine struct {
	log    *slog.Logger
	conn   *pgx.Conn
	dbUser string
	crdb   bool
}

func openPG(ctx context.Context, u *dburl.URL, opts Options) (*pgEngine, error) {
	cfg, err := pgx.ParseConfig(u.PGX())
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	// On Ctrl-C, ask the server to cancel the running statement and keep the
	// connection, so the failure can still be recorded.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 5 * time.Second}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	e := &pgEngine{conn: conn, crdb: u.Engine == dburl.Cockroach, log: opts.Logger}
	if err := e.setup(ctx, opts); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return e, nil
}

func (e *pgEngine) setup(ctx context.Context, opts Options) error {
	if err := state.Ensure(ctx, e.conn, component); err != nil {
		return err
	}
	if err := e.conn.QueryRow(ctx, "SELECT current_user").Scan(&e.dbUser); err != nil {
		return err
	}
	for name, d := range map[string]time.Duration{"lock_timeout": opts.LockTimeoutDDL, "statement_timeout": opts.StatementTimeout} {
		if d > 0 {
			if _, err := e.conn.Exec(ctx, fmt.Sprintf("SET %s = '%dms'", name, d.Milliseconds())); err != nil {
				return fmt.Errorf("set %s: %w", name, err)
			}
		}
	}
	return nil
}

func (e *pgEngine) user() string { return e.dbUser }

func (e *pgEngine) close(ctx context.Context) { _ = e.conn.Close(ctx) }

func (e *pgEngine) applied(ctx context.Context) ([]Applied, error) {
	rows, err := e.conn.Query(ctx, "SELECT version, name, checksum, applied_at FROM tidemark.migrate_versions ORDER BY version")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Applied, error) {
		var a Applied
		err := r.Scan(&a.Version, &a.Name, &a.Checksum, &a.AppliedAt)
		return a, err
	})
}

const attemptCols = `id, version, name, direction, file, checksum, started_at, finished_at, duration_ms, host, db_user,
	result, error, failed_statement, failed_line, failed_index, statements_done, statements_total, resumed_from,
	transactional, done_checksum`

func scanAttempt(r pgx.Row) (Attempt, error) {
	var a Attempt
	err := r.Scan(&a.ID, &a.Version, &a.Name, &a.Direction, &a.File, &a.Checksum, &a.StartedAt, &a.FinishedAt,
		&a.DurationMS, &a.Host, &a.User, &a.Result, &a.Error, &a.FailedStatement, &a.FailedLine, &a.FailedIndex,
		&a.StatementsDone, &a.StatementsTotal, &a.ResumedFrom, &a.Transactional, &a.DoneChecksum)
	return a, err
}

func (e *pgEngine) history(ctx context.Context) ([]Attempt, error) {
	rows, err := e.conn.Query(ctx, "SELECT "+attemptCols+" FROM tidemark.migrate_history ORDER BY id")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attempt, error) { return scanAttempt(r) })
}

func (e *pgEngine) lastAttempt(ctx context.Context, version uint64, direction string) (*Attempt, error) {
	a, err := scanAttempt(e.conn.QueryRow(ctx, "SELECT "+attemptCols+` FROM tidemark.migrate_history
		WHERE version = $1 AND direction = $2 ORDER BY id DESC LIMIT 1`, version, direction))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &a, err
}

func (e *pgEngine) interruptStale(ctx context.Context) error {
	_, err := e.conn.Exec(ctx, `UPDATE tidemark.migrate_history SET result = 'interrupted'
		WHERE result = 'running'`)
	return err
}

// apply runs one step: a transactional file and its bookkeeping in one
// transaction; a non-transactional file statement by statement, recording
// progress after each.
func (e *pgEngine) apply(ctx context.Context, j *job) (*Attempt, error) {
	a, err := e.begin(ctx, j)
	if err != nil {
		return nil, err
	}
	if j.script.Transactional {
		err = e.runTx(ctx, j, a)
		// CockroachDB may abort a transaction to be retried (40001).
		for try := 1; err != nil && e.crdb && try < 4 && sqlState(err) == "40001"; try++ {
			err = e.runTx(ctx, j, a)
		}
	} else {
		err = e.runNoTx(ctx, j, a)
	}
	if err != nil {
		a.failure(err)
		bg := context.WithoutCancel(ctx)
		if _, uerr := e.conn.Exec(bg, `UPDATE tidemark.migrate_history SET result = 'failed', finished_at = clock_timestamp(),
			duration_ms = $2, error = $3, failed_statement = $4, failed_line = $5, failed_index = $6 WHERE id = $1`,
			a.ID, time.Since(a.StartedAt).Milliseconds(), a.Error, a.FailedStatement, a.FailedLine, a.FailedIndex); uerr != nil {
			err = errors.Join(err, fmt.Errorf("record failure: %w", uerr))
		}
		return a, err
	}
	return a, nil
}

func (e *pgEngine) begin(ctx context.Context, j *job) (*Attempt, error) {
	a := &Attempt{Version: j.mig.Version, Name: j.mig.Name, Direction: j.dir, File: j.script.File, Checksum: j.script.Checksum,
		Host: j.host, User: e.dbUser, Result: ResultRunning, StatementsDone: j.resume, StatementsTotal: len(j.script.Statements),
		ResumedFrom: j.resume, Transactional: j.script.Transactional}
	err := e.conn.QueryRow(ctx, `INSERT INTO tidemark.migrate_history (version, name, direction, file, checksum, started_at,
		host, db_user, result, statements_done, statements_total, resumed_from, transactional, done_checksum)
		VALUES ($1, $2, $3, $4, $5, clock_timestamp(), $6, $7, 'running', $8, $9, $8, $10, $11) RETURNING id, started_at`,
		a.Version, a.Name, a.Direction, a.File, a.Checksum, a.Host, a.User, a.StatementsDone, a.StatementsTotal,
		a.Transactional, prefixChecksum(j.script.Statements, j.resume)).Scan(&a.ID, &a.StartedAt)
	if err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	return a, nil
}

func (e *pgEngine) runTx(ctx context.Context, j *job, a *Attempt) error {
	tx, err := e.conn.Begin(ctx)
	if err != nil {
		return err
	}
	// Roll back even after Ctrl-C, so the connection survives to record the failure.
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	for i, st := range j.script.Statements {
		if _, err := tx.Exec(ctx, st.SQL); err != nil {
			return stmtErr(j.script, i, err)
		}
	}
	if err := e.finish(ctx, tx, j, a); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func (e *pgEngine) runNoTx(ctx context.Context, j *job, a *Attempt) error {
	stmts := j.script.Statements
	for i := j.resume; i < len(stmts); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if dropped, err := e.dropInvalidIndex(ctx, stmts[i].SQL); err != nil {
			return stmtErr(j.script, i, err)
		} else if dropped != "" {
			e.log.Warn("dropped the invalid index an earlier attempt left", "index", dropped, "file", j.script.File)
		}
		if _, err := e.conn.Exec(ctx, stmts[i].SQL); err != nil {
			return stmtErr(j.script, i, err)
		}
		a.StatementsDone = i + 1
		if _, err := e.conn.Exec(context.WithoutCancel(ctx), `UPDATE tidemark.migrate_history
			SET statements_done = $2, done_checksum = $3 WHERE id = $1`, a.ID, i+1, prefixChecksum(stmts, i+1)); err != nil {
			return fmt.Errorf("record progress: %w", err)
		}
	}
	return pgx.BeginFunc(ctx, e.conn, func(tx pgx.Tx) error { return e.finish(ctx, tx, j, a) })
}

// finish records the new version and the attempt's success in tx.
func (e *pgEngine) finish(ctx context.Context, tx pgx.Tx, j *job, a *Attempt) error {
	var err error
	if j.dir == DirUp {
		_, err = tx.Exec(ctx, `INSERT INTO tidemark.migrate_versions (version, name, checksum, applied_at, history_id)
			VALUES ($1, $2, $3, clock_timestamp(), $4) ON CONFLICT (version) DO UPDATE SET name = excluded.name,
			checksum = excluded.checksum, applied_at = excluded.applied_at, history_id = excluded.history_id`,
			a.Version, a.Name, j.script.Checksum, a.ID)
	} else {
		_, err = tx.Exec(ctx, `DELETE FROM tidemark.migrate_versions WHERE version = $1`, a.Version)
	}
	if err != nil {
		return fmt.Errorf("record version: %w", err)
	}
	a.StatementsDone = len(j.script.Statements)
	err = tx.QueryRow(ctx, `UPDATE tidemark.migrate_history SET result = 'succeeded', finished_at = clock_timestamp(),
		duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint, statements_done = $2,
		done_checksum = $3 WHERE id = $1 RETURNING finished_at, duration_ms`,
		a.ID, a.StatementsDone, prefixChecksum(j.script.Statements, a.StatementsDone)).Scan(&a.FinishedAt, &a.DurationMS)
	if err != nil {
		return fmt.Errorf("record success: %w", err)
	}
	a.Result = ResultSucceeded
	return nil
}

// stmtErr names the file, line and statement of a failed statement; the
// line points into the statement when PostgreSQL reports a position.
func stmtErr(sc *Script, i int, err error) error {
	st := sc.Statements[i]
	line := st.Line
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Position > 0 {
		r := []rune(st.SQL)
		line += strings.Count(string(r[:min(int(pe.Position)-1, len(r))]), "\n")
	}
	return &StatementError{File: sc.File, Line: line, Index: i + 1, Statement: st.SQL, Err: err}
}

func sqlState(err error) string {
	var s interface{ SQLState() string }
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}
