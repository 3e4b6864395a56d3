package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// SnapshotSchema is the schema holding a label's table copies.
func SnapshotSchema(label string) string { return pitr.StoreName("tidemark_snap_", label) }

// ChecksumSQL returns a query of (row count, checksum) over every row of the
// relation: the sum of the first 60 bits of each row's md5, so the result
// does not depend on row order and equal tables give equal checksums.
func ChecksumSQL(qualified string) string {
	return `SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text FROM ` + qualified + ` t`
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Checksum returns the row count and checksum of a table.
func Checksum(ctx context.Context, q querier, qualified string) (int64, string, error) {
	var n int64
	var sum string
	if err := q.QueryRow(ctx, ChecksumSQL(qualified)).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("checksum %s: %w", qualified, err)
	}
	return n, sum, nil
}

// resolveTables turns user-given names into quoted schema.table names.
func (p *Provider) resolveTables(ctx context.Context, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		var q *string
		err := p.pool.QueryRow(ctx, `SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
			JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1) AND c.relkind IN ('r','p')`, n).Scan(&q)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && q == nil {
			return nil, errkind.Usagef("table %q not found", n)
		}
		if err != nil {
			return nil, fmt.Errorf("resolve table %q: %w", n, err)
		}
		out = append(out, *q)
	}
	return out, nil
}

// snapshotTables copies the tables into the label's snapshot schema, all
// from one exported REPEATABLE READ snapshot, several connections at once.
func (p *Provider) snapshotTables(ctx context.Context, label string, tables []string, parallel int) ([]pitr.TableSum, error) {
	schema := SnapshotSchema(label)
	if _, err := p.pool.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, schema, schema)); err != nil {
		return nil, fmt.Errorf("create snapshot schema: %w", err)
	}
	coord, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer coord.Rollback(ctx) //nolint:errcheck
	var snap string
	if _, err := coord.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
		return nil, err
	}
	if err := coord.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return nil, fmt.Errorf("export snapshot: %w", err)
	}
	sums := make([]pitr.TableSum, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, t := range tables {
		g.Go(func() error {
			s, err := p.copyTable(gctx, snap, t, schema)
			sums[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return sums, coord.Commit(ctx)
}

// copyTable copies one table inside the exported snapshot and checksums the copy.
func (p *Provider) copyTable(ctx context.Context, snap, table, schema string) (pitr.TableSum, error) {
	s := pitr.TableSum{Name: table, Copy: schema + "." + table[strings.LastIndex(table, ".")+1:]}
	if strings.Count(table, ".") != 1 {
		s.Copy = schema + "." + strings.ReplaceAll(table, ".", "_")
	}
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return s, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET TRANSACTION SNAPSHOT '%s'`, snap)); err != nil {
		return s, fmt.Errorf("import snapshot: %w", err)
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s AS SELECT * FROM %s`, s.Copy, table)); err != nil {
		return s, fmt.Errorf("copy %s: %w", table, err)
	}
	if s.Rows, s.Checksum, err = Checksum(ctx, tx, s.Copy); err != nil {
		return s, err
	}
	return s, tx.Commit(ctx)
}
