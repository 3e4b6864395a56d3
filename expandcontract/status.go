package expandcontract

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

// StatusReport is expand/contract's part of `tidemark status`.
type StatusReport struct {
	// Versions lists the versions in progress and the latest finished one, newest first.
	Versions []VersionStatus `json:"versions"`
}

// VersionStatus is one version (one `tidemark expand` run).
type VersionStatus struct {
	Schema        string            `json:"schema"`
	VersionSchema string            `json:"version_schema"`
	OldSchema     string            `json:"old_schema"`
	Phase         string            `json:"phase"`
	Active        bool              `json:"active"`
	Migrations    []MigrationStatus `json:"migrations"`
	Backfills     []BackfillStatus  `json:"backfills,omitempty"`
	StartedAt     time.Time         `json:"started_at"`
	UpdatedAt     time.Time         `json:"updated_at"`
}

// MigrationStatus is one migration file of a version.
type MigrationStatus struct {
	Name  string `json:"name"`
	Phase string `json:"phase"`
}

// BackfillStatus is one table's backfill progress.
type BackfillStatus struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	Done  bool   `json:"done"`
}

// Status reports the versions of every schema: active ones and, per
// schema, the last finished one. A database without tidemark state has none.
func Status(ctx context.Context, pool *pgxpool.Pool) (*StatusReport, error) {
	rep := &StatusReport{Versions: []VersionStatus{}}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('tidemark.ec_versions') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return rep, err
	}
	rows, err := pool.Query(ctx, `SELECT `+versionCols+` FROM tidemark.ec_versions v
		WHERE status NOT IN ('contracted', 'rolled_back')
		   OR id = (SELECT max(id) FROM tidemark.ec_versions w WHERE w.schema_name = v.schema_name AND w.status IN ('contracted', 'rolled_back'))
		ORDER BY id DESC`)
	if err != nil {
		return nil, err
	}
	var vs []*versionRow
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		vs = append(vs, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, v := range vs {
		st := VersionStatus{Schema: v.Schema, VersionSchema: v.VersionSchema, OldSchema: v.OldSchema, Phase: v.Status,
			Active: v.Status != PhaseContracted && v.Status != PhaseRolledBack, StartedAt: v.StartedAt, UpdatedAt: v.UpdatedAt}
		for _, m := range v.Migrations {
			st.Migrations = append(st.Migrations, MigrationStatus{Name: m.Name, Phase: v.Status})
		}
		if st.Active {
			st.Backfills = backfillStatus(ctx, pool, v)
		}
		rep.Versions = append(rep.Versions, st)
	}
	return rep, nil
}

func backfillStatus(ctx context.Context, pool *pgxpool.Pool, v *versionRow) []BackfillStatus {
	plan, err := NewPlan(Postgres{}, v.Snapshot, v.OldSchema, v.Migrations)
	if err != nil {
		return nil
	}
	var out []BackfillStatus
	for _, a := range plan.Expand {
		if a.Backfill == nil {
			continue
		}
		bs := BackfillStatus{Table: a.Backfill.Table}
		if c, err := backfill.Load(ctx, pool, a.Backfill.ID); err == nil && c != nil {
			bs.Rows, bs.Done = c.Rows, c.Done
		}
		out = append(out, bs)
	}
	return out
}
