// Package state keeps tidemark's own state schema in each target database:
// the `tidemark` schema (PostgreSQL, CockroachDB) or database (MongoDB).
//
// Each tidemark package that keeps state (migrator, expandcontract, pitr,
// reconcile, deploy) is a [Component] with its own ordered list of DDL steps.
// The applied step count is recorded per component in tidemark.state_version,
// so a newer tidemark upgrades its state in place and an older one refuses a
// state newer than it knows, with a clear message.
package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Schema is the name of tidemark's state schema.
const Schema = "tidemark"

// Component is one package's part of the state schema. Its version is
// len(Steps); steps are never edited once released, only appended.
type Component struct {
	Name  string
	Steps []string
}

// ErrNewerState means the database's state was written by a newer tidemark.
var ErrNewerState = errors.New("state written by a newer tidemark")

// Beginner is what Ensure needs: *pgx.Conn and *pgxpool.Pool both qualify.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

const lockKey = 0x7469_6465_6d61 // "tidema"

// Ensure creates or upgrades c's tables in one transaction, serialised with
// other tidemark runs by an advisory lock (PostgreSQL) or by retrying the
// transaction (CockroachDB, where advisory locks do nothing).
func Ensure(ctx context.Context, db Beginner, c Component) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = ensureOnce(ctx, db, c); err == nil || !retryable(err) {
			break
		}
	}
	if err != nil && !errors.Is(err, ErrNewerState) {
		return fmt.Errorf("prepare tidemark state (%s): %w", c.Name, err)
	}
	return err
}

func ensureOnce(ctx context.Context, db Beginner, c Component) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(lockKey)); err != nil {
		return err
	}
	for _, q := range []string{
		"CREATE SCHEMA IF NOT EXISTS " + Schema,
		`CREATE TABLE IF NOT EXISTS ` + Schema + `.state_version (
			component  text PRIMARY KEY,
			version    int NOT NULL,
			updated_at timestamptz NOT NULL DEFAULT now())`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	var have int
	err = tx.QueryRow(ctx, "SELECT version FROM "+Schema+".state_version WHERE component = $1 FOR UPDATE", c.Name).Scan(&have)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if have > len(c.Steps) {
		return fmt.Errorf("%w: %w: the %s state is at version %d but this tidemark knows only up to %d: upgrade tidemark", errkind.ErrPrecondition, ErrNewerState, c.Name, have, len(c.Steps))
	}
	if have == len(c.Steps) {
		return tx.Commit(ctx)
	}
	for i := have; i < len(c.Steps); i++ {
		if _, err := tx.Exec(ctx, c.Steps[i]); err != nil {
			return fmt.Errorf("state step %d: %w", i+1, err)
		}
	}
	_, err = tx.Exec(ctx, `INSERT INTO `+Schema+`.state_version(component, version) VALUES ($1, $2)
		ON CONFLICT (component) DO UPDATE SET version = excluded.version, updated_at = now()`, c.Name, len(c.Steps))
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40001", "23505", "42P07", "42P06": // serialization, concurrent CREATE ... IF NOT EXISTS
			return true
		}
	}
	return false
}
