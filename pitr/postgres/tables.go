package postgres

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// SnapshotSchema is the schema holding a label's table copies.
func SnapshotSchema(label string) string { return pitr.StoreName("tidemark_snap_", label) }

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
// With dir set the copies are COPY text files in dir/<snapshot schema name>/.
func (p *Provider) snapshotTables(ctx context.Context, label string, tables []string, parallel int, dir string) (string, []pitr.TableSum, error) {
	store, err := p.prepareStore(ctx, label, dir)
	if err != nil {
		return "", nil, err
	}
	coord, err := p.pool.Begin(ctx)
	if err != nil {
		return "", nil, err
	}
	defer coord.Rollback(ctx) //nolint:errcheck
	var snap string
	if _, err := coord.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
		return "", nil, err
	}
	if err := coord.QueryRow(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return "", nil, fmt.Errorf("export snapshot: %w", err)
	}
	sums := make([]pitr.TableSum, len(tables))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallel)
	for i, t := range tables {
		g.Go(func() error {
			s, err := p.copyTable(gctx, snap, t, store, dir != "")
			sums[i] = s
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return "", nil, err
	}
	return store, sums, coord.Commit(ctx)
}

// prepareStore creates the (empty) snapshot schema, or directory when dir is set.
func (p *Provider) prepareStore(ctx context.Context, label, dir string) (string, error) {
	schema := SnapshotSchema(label)
	if dir != "" {
		abs, err := filepath.Abs(filepath.Join(dir, schema))
		if err == nil {
			os.RemoveAll(abs)
			err = os.MkdirAll(abs, 0o700)
		}
		if err != nil {
			return "", fmt.Errorf("table snapshot dir: %w", err)
		}
		return abs, nil
	}
	if _, err := p.pool.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, schema, schema)); err != nil {
		return "", fmt.Errorf("create snapshot schema: %w", err)
	}
	return schema, nil
}

// copyTable copies one table inside the exported snapshot, into the
// snapshot schema (CREATE TABLE AS, then a server-side checksum) or, with
// toFile, into a COPY text file checksummed while it streams.
func (p *Provider) copyTable(ctx context.Context, snap, table, store string, toFile bool) (pitr.TableSum, error) {
	base := table[strings.LastIndex(table, ".")+1:]
	s := pitr.TableSum{Name: table, Copy: store + "." + base}
	if toFile {
		s.Copy = filepath.Join(store, strings.ReplaceAll(table, `"`, "")+".copy")
	}
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return s, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SET TRANSACTION SNAPSHOT '%s'`, snap)); err != nil {
		return s, fmt.Errorf("import snapshot: %w", err)
	}
	if toFile {
		s.Algo = AlgoCopyFNV
		s.Rows, s.Checksum, err = copyToFile(ctx, tx, table, s.Copy)
	} else {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s AS SELECT * FROM %s`, s.Copy, table)); err != nil {
			return s, fmt.Errorf("copy %s: %w", table, err)
		}
		s.Algo, s.Rows, s.Checksum, err = serverChecksum(ctx, tx, s.Copy)
	}
	if err != nil {
		return s, err
	}
	return s, tx.Commit(ctx)
}

// copyToFile streams COPY table TO STDOUT into path, checksumming each line.
func copyToFile(ctx context.Context, tx pgx.Tx, table, path string) (int64, string, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, "", fmt.Errorf("table snapshot file: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	var sum LineSum
	if _, err := tx.Conn().PgConn().CopyTo(ctx, io.MultiWriter(w, &sum), `COPY `+table+` TO STDOUT`); err != nil {
		return 0, "", fmt.Errorf("copy %s: %w", table, err)
	}
	if err := errors.Join(w.Flush(), f.Sync()); err != nil {
		return 0, "", fmt.Errorf("write %s: %w", path, err)
	}
	return sum.Result()
}
