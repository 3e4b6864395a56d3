package deploy

import (
	"context"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/migrator"
)

// Migrations is the Migrator backed by package migrator.
type Migrations struct {
	// Options are the migrator's (lock and statement timeouts, logger);
	// Source is set per call.
	Options migrator.Options
}

var _ Migrator = Migrations{}

func (m Migrations) open(ctx context.Context, t *dburl.URL, dir string) (*migrator.Migrator, error) {
	o := m.Options
	o.Source = dir
	return migrator.Open(ctx, t, o)
}

// MigrationVersion is the applied version (0: none).
func (m Migrations) MigrationVersion(ctx context.Context, t *dburl.URL, dir string) (uint64, error) {
	mg, err := m.open(ctx, t, dir)
	if err != nil {
		return 0, err
	}
	defer mg.Close(context.WithoutCancel(ctx))
	st, err := mg.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.Current, nil
}

// MigrateUp applies every pending migration.
func (m Migrations) MigrateUp(ctx context.Context, t *dburl.URL, dir string) (MigrateInfo, error) {
	mg, err := m.open(ctx, t, dir)
	if err != nil {
		return MigrateInfo{}, err
	}
	defer mg.Close(context.WithoutCancel(ctx))
	r, err := mg.Up(ctx, 0)
	return migrateInfo(r), err
}

// MigrateTo goes up or down to version.
func (m Migrations) MigrateTo(ctx context.Context, t *dburl.URL, dir string, version uint64) (MigrateInfo, error) {
	mg, err := m.open(ctx, t, dir)
	if err != nil {
		return MigrateInfo{}, err
	}
	defer mg.Close(context.WithoutCancel(ctx))
	r, err := mg.Goto(ctx, version)
	return migrateInfo(r), err
}

func migrateInfo(r *migrator.Result) MigrateInfo {
	if r == nil {
		return MigrateInfo{}
	}
	return MigrateInfo{From: r.From, To: r.To, Applied: len(r.Steps)}
}
