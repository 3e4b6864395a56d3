package postgres

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/tidemark/tidemark/pitr"
)

// loadSide loads table snapshots kept as COPY files into a side schema
// (tidemark_restore_<label>), checks them there, and returns the table list
// pointing at the side tables. Snapshot-schema copies are used as they are.
// cleanup drops the side schema.
func (p *Provider) loadSide(ctx context.Context, label string, sel []pitr.TableSum) ([]pitr.TableSum, func(), error) {
	side := pitr.StoreName("tidemark_restore_", label)
	cleanup := func() {
		p.pool.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+side+` CASCADE`) //nolint:errcheck
	}
	out := make([]pitr.TableSum, len(sel))
	copy(out, sel)
	created := false
	for i, t := range sel {
		if t.Algo != AlgoCopyFNV {
			continue
		}
		if !created {
			if _, err := p.pool.Exec(ctx, fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, side, side)); err != nil {
				return nil, cleanup, fmt.Errorf("create side schema: %w", err)
			}
			created = true
		}
		out[i].Copy = side + "." + t.Name[strings.LastIndex(t.Name, ".")+1:]
		if err := p.loadFile(ctx, t, out[i].Copy); err != nil {
			return nil, cleanup, err
		}
		n, sum, err := Checksum(ctx, p.pool, out[i].Copy, AlgoCopyFNV)
		if err != nil {
			return nil, cleanup, err
		}
		if n != t.Rows || sum != t.Checksum {
			return nil, cleanup, fmt.Errorf("side copy %s: %d rows/%s, manifest %d/%s", out[i].Copy, n, sum, t.Rows, t.Checksum)
		}
	}
	return out, cleanup, nil
}

// loadFile creates the side table with the live table's stored columns and
// COPYs the snapshot file into it.
func (p *Provider) loadFile(ctx context.Context, t pitr.TableSum, sideTable string) error {
	cols, err := columns(ctx, p.pool, t.Name)
	if err != nil {
		return err
	}
	if _, err := p.pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s AS SELECT %s FROM %s WITH NO DATA`, sideTable, cols, t.Name)); err != nil {
		return fmt.Errorf("create side table: %w", err)
	}
	f, err := os.Open(t.Copy)
	if err != nil {
		return fmt.Errorf("table snapshot file: %w", err)
	}
	defer f.Close()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, bufio.NewReaderSize(f, 1<<20), `COPY `+sideTable+` FROM STDIN`); err != nil {
		return fmt.Errorf("load %s into %s: %w", t.Copy, sideTable, err)
	}
	return nil
}
