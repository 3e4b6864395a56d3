package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// Restore restores a whole cluster into a new data directory (TargetDir),
// or the snapshot's tables into the live database (Tables/AllTables).
func (p *Provider) Restore(ctx context.Context, label string, o pitr.RestoreOptions) (*pitr.RestoreResult, error) {
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	if len(o.Tables) > 0 || o.AllTables {
		return p.restoreTables(ctx, m, o)
	}
	if err := markerRecorded(m); err != nil {
		return nil, err
	}
	if err := p.checkGivenArchiveDir(); err != nil {
		return nil, err
	}
	s, err := p.serverInfo(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := checkTarget(o.TargetDir, s.DataDir)
	if err != nil {
		return nil, err
	}
	c, err := p.restoreCluster(ctx, m, dir, o.Port, o.RestoreCommand)
	if err != nil {
		return nil, err
	}
	return &pitr.RestoreResult{Label: label, Mode: "cluster", TargetDir: c.Dir, Port: c.Port,
		URL: dburl.Redact(c.URL), Timings: c.Timings, SwitchOver: switchOver(c, m), Command: c.Command}, nil
}

func switchOver(c *cluster, m *pitr.Manifest) []string {
	return []string{
		fmt.Sprintf("the restored cluster runs from %s on port %d, at restore point %q (LSN %s), promoted on a new timeline", c.Dir, c.Port, m.Position.RestorePoint, m.Position.LSN),
		"check it: psql " + dburl.Redact(c.URL),
		"stop writes to the live server, then point the services' DATABASE_URL at the restored server (or stop both, move the data directory in place of the live one and start it on the live port)",
		"the restored server has archive_mode off: turn archiving on (archive_mode, archive_command) and take a new base backup before relying on it for PITR",
	}
}

// restoreTables puts the snapshot copies back into the live tables in one
// transaction, refusing tables whose rows changed since the snapshot unless
// DiscardNewer.
func (p *Provider) restoreTables(ctx context.Context, m *pitr.Manifest, o pitr.RestoreOptions) (*pitr.RestoreResult, error) {
	sel, err := selectTables(ctx, p, m, o)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := p.checkTables(ctx, p.pool, &pitr.Manifest{Tables: sel}); err != nil {
		return nil, errkind.Problemsf("the snapshot copies in %s no longer match the manifest: %w", m.SnapshotStore, err)
	}
	res := &pitr.RestoreResult{Label: m.Label, Mode: "tables", Tables: sel, Timings: pitr.Timings{"check": pitr.Lap(&t0)}}
	side, cleanup, err := p.loadSide(ctx, m.Label, sel)
	defer cleanup()
	if err != nil {
		return nil, err
	}
	res.Timings["load_side"] = pitr.Lap(&t0)
	err = pgx.BeginTxFunc(ctx, p.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		return swapTables(ctx, tx, side, o.DiscardNewer)
	})
	if err != nil {
		return nil, err
	}
	res.Timings["swap"] = pitr.Lap(&t0)
	return res, nil
}

func selectTables(ctx context.Context, p *Provider, m *pitr.Manifest, o pitr.RestoreOptions) ([]pitr.TableSum, error) {
	if len(m.Tables) == 0 {
		return nil, errkind.Usagef("snapshot %q has no table snapshot (create it with --tables)", m.Label)
	}
	if o.AllTables {
		return m.Tables, nil
	}
	want, err := p.resolveTables(ctx, o.Tables)
	if err != nil {
		return nil, err
	}
	var sel []pitr.TableSum
	for _, w := range want {
		i := slices.IndexFunc(m.Tables, func(t pitr.TableSum) bool { return t.Name == w })
		if i < 0 {
			return nil, errkind.Usagef("table %s is not in snapshot %q", w, m.Label)
		}
		sel = append(sel, m.Tables[i])
	}
	return sel, nil
}

// swapTables locks the live tables, compares their checksums with the
// manifest, and replaces their rows with the snapshot copies.
func swapTables(ctx context.Context, tx pgx.Tx, sel []pitr.TableSum, discardNewer bool) error {
	names := make([]string, len(sel))
	for i, t := range sel {
		names[i] = t.Name
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock tables: %w", err)
	}
	var changed []string
	for _, t := range sel {
		n, sum, err := Checksum(ctx, tx, t.Name, algo(t))
		if err != nil {
			return err
		}
		if n != t.Rows || sum != t.Checksum {
			changed = append(changed, fmt.Sprintf("%s (%d rows now, %d in the snapshot)", t.Name, n, t.Rows))
		}
	}
	if len(changed) > 0 && !discardNewer {
		return errkind.Preconditionf("rows changed after the snapshot in %s: pass --discard-newer to overwrite them", strings.Join(changed, ", "))
	}
	if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(names, ", ")); err != nil {
		return fmt.Errorf("empty live tables: %w", err)
	}
	for _, t := range sel {
		if err := copyBack(ctx, tx, t); err != nil {
			return err
		}
	}
	return nil
}

func copyBack(ctx context.Context, tx pgx.Tx, t pitr.TableSum) error {
	cols, err := columns(ctx, tx, t.Name)
	if err != nil {
		return err
	}
	q := fmt.Sprintf(`INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s`, t.Name, cols, cols, t.Copy)
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("restore %s: %w", t.Name, err)
	}
	n, sum, err := Checksum(ctx, tx, t.Name, algo(t))
	if err != nil {
		return err
	}
	if n != t.Rows || sum != t.Checksum {
		return errkind.Problemsf("%s after restore: %d rows/%s, manifest %d rows/%s", t.Name, n, sum, t.Rows, t.Checksum)
	}
	return nil
}

// columns lists a table's stored (non-generated) columns, quoted, in order.
func columns(ctx context.Context, q querier, table string) (string, error) {
	var cols string
	err := q.QueryRow(ctx, `SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`, table).Scan(&cols)
	if err != nil {
		return "", fmt.Errorf("columns of %s: %w", table, err)
	}
	return cols, nil
}
