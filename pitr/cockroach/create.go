package cockroach

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
	"github.com/tidemark/tidemark/pitr/internal/sqlstore"
)

// MinTTL is the shortest gc.ttlseconds accepted without a backup: a
// rollback must be able to happen within it.
const MinTTL = 10 * time.Minute

// Create records the HLC marker (idempotent by label), the restorable
// window, an optional revision-history backup and table checksums.
func (p *Provider) Create(ctx context.Context, o pitr.CreateOptions) (*pitr.Manifest, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if m, err := p.Get(ctx, o.Label); err == nil {
		m.Existing = true
		return m, nil
	} else if !errors.Is(err, pitr.ErrNotFound) {
		return nil, err
	}
	if o.BaseBackup != pitr.BackupNone && o.BaseBackup != pitr.BackupNative {
		return nil, errkind.Usagef("--base-backup %s is not for CockroachDB: use --base-backup backup --backup-dir 'nodelocal://1/tidemark' (any BACKUP destination URI)", o.BaseBackup)
	}
	t0 := time.Now()
	m := &pitr.Manifest{Label: o.Label, Database: p.u.String(), Engine: "cockroach", Timings: pitr.Timings{}}
	if err := p.pool.QueryRow(ctx, VersionSQL()).Scan(&m.ServerVersion); err != nil {
		return nil, fmt.Errorf("read version: %w", err)
	}
	ttl, err := p.gcTTL(ctx)
	if err != nil {
		return nil, err
	}
	if ttl < MinTTL && o.BaseBackup == pitr.BackupNone {
		return nil, errkind.Preconditionf("gc.ttlseconds of database %s is %s, shorter than %s: raise it (ALTER DATABASE %s CONFIGURE ZONE USING gc.ttlseconds = 14400) or take a backup (--base-backup backup --backup-dir URI)",
			p.u.Database(), ttl, MinTTL, Ident(p.u.Database()))
	}
	if err := p.pool.QueryRow(ctx, MarkerSQL()).Scan(&m.Position.HLC, &m.CreatedAt); err != nil {
		return nil, fmt.Errorf("read cluster_logical_timestamp: %w", err)
	}
	until := m.CreatedAt.Add(ttl).UTC()
	m.Position.RestorableUntil = &until
	m.CreatedAt = m.CreatedAt.UTC()
	if o.BaseBackup == pitr.BackupNative {
		if err := p.backup(ctx, m, o.BackupDir); err != nil {
			return nil, err
		}
	}
	if m.Tables, err = p.checksums(ctx, o.Tables, m.Position.HLC); err != nil {
		return nil, err
	}
	m.Timings["create"] = pitr.Lap(&t0)
	m.Requirements = requirements(m)
	if err := sqlstore.Save(ctx, p.pool, m); err != nil {
		return nil, err
	}
	return m, nil
}

var ttlRE = regexp.MustCompile(`gc\.ttlseconds\s*=\s*(\d+)`)

// gcTTL reads the database's gc.ttlseconds.
func (p *Provider) gcTTL(ctx context.Context) (time.Duration, error) {
	var raw string
	if err := p.pool.QueryRow(ctx, ZoneConfigSQL(p.u.Database())).Scan(&raw); err != nil {
		return 0, fmt.Errorf("read zone configuration: %w", err)
	}
	m := ttlRE.FindStringSubmatch(raw)
	if m == nil {
		return 0, fmt.Errorf("no gc.ttlseconds in zone configuration %q", raw)
	}
	n, _ := strconv.Atoi(m[1])
	return time.Duration(n) * time.Second, nil
}

// backup starts BACKUP ... AS OF SYSTEM TIME the marker, detached.
func (p *Provider) backup(ctx context.Context, m *pitr.Manifest, dest string) error {
	if err := p.pool.QueryRow(ctx, BackupSQL(p.u.Database(), dest, m.Position.HLC)).Scan(&m.Position.BackupJobID); err != nil {
		return errkind.Preconditionf("BACKUP INTO %s failed: %w", dest, err)
	}
	m.BaseBackup = &pitr.BaseBackup{ID: strconv.FormatInt(m.Position.BackupJobID, 10), Method: pitr.BackupNative,
		Location: dest, TakenAt: m.CreatedAt}
	m.Position.RestorableUntil = nil
	return nil
}

// checksums reads each table's row count and checksum as of the marker.
func (p *Provider) checksums(ctx context.Context, tables []string, hlc string) ([]pitr.TableSum, error) {
	var out []pitr.TableSum
	for _, t := range tables {
		schema, name := "public", t
		if s, n, ok := strings.Cut(t, "."); ok {
			schema, name = s, n
		}
		n, sum, err := p.checksum(ctx, schema, name, hlc)
		if err != nil {
			return nil, err
		}
		out = append(out, pitr.TableSum{Name: schema + "." + name, Rows: n, Checksum: sum})
	}
	return out, nil
}

func (p *Provider) checksum(ctx context.Context, schema, table, hlc string) (int64, string, error) {
	return p.checksumIn(ctx, "", schema, table, hlc)
}

// checksumIn reads a table's count and checksum, in database db when set
// (a restored copy), as of hlc when set.
func (p *Provider) checksumIn(ctx context.Context, db, schema, table, hlc string) (int64, string, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return 0, "", err
	}
	defer conn.Release()
	if db != "" {
		if _, err := conn.Exec(ctx, UseSQL(db)); err != nil {
			return 0, "", err
		}
		defer conn.Exec(context.WithoutCancel(ctx), UseSQL(p.u.Database())) //nolint:errcheck
	}
	rows, err := conn.Query(ctx, ColumnsSQL(), schema, table)
	if err != nil {
		return 0, "", fmt.Errorf("columns of %s.%s: %w", schema, table, err)
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, "", fmt.Errorf("columns of %s.%s: %w", schema, table, err)
	}
	if len(cols) == 0 {
		return 0, "", errkind.Usagef("table %s.%s not found", schema, table)
	}
	var n int64
	var sum string
	if err := conn.QueryRow(ctx, ChecksumSQL(schema, table, cols, hlc)).Scan(&n, &sum); err != nil {
		return 0, "", fmt.Errorf("checksum %s.%s: %w", schema, table, err)
	}
	return n, sum, nil
}

func requirements(m *pitr.Manifest) []string {
	if m.BaseBackup != nil {
		return []string{fmt.Sprintf("the revision-history backup in %s (job %d); RESTORE ... AS OF SYSTEM TIME '%s'", m.BaseBackup.Location, m.Position.BackupJobID, m.Position.HLC)}
	}
	return []string{fmt.Sprintf("MVCC history kept by gc.ttlseconds: readable AS OF SYSTEM TIME '%s' until %s", m.Position.HLC, m.Position.RestorableUntil.Format(time.RFC3339))}
}
