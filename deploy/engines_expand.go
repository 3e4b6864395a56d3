package deploy

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/expandcontract"
	mongoec "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/internal/dburl"
)

// ExpandContract is the Expander backed by package expandcontract
// (PostgreSQL; CockroachDB through its dialect) and expandcontract/mongo.
type ExpandContract struct {
	Options expandcontract.Options
	Mongo   mongoec.Options
}

var _ Expander = ExpandContract{}

func (e ExpandContract) pool(ctx context.Context, t *dburl.URL) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(t.PGX())
	if err != nil {
		return nil, dburl.RedactError(err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.RuntimeParams["application_name"] = "tidemark-deploy"
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	return p, dburl.RedactError(err)
}

func mongoClient(ctx context.Context, t *dburl.URL) (*mongo.Client, error) {
	c, err := mongo.Connect(ctx, options.Client().ApplyURI(t.Raw).SetServerSelectionTimeout(10*time.Second))
	return c, dburl.RedactError(err)
}

// Expand starts (or resumes) the migrations in files as one version.
func (e ExpandContract) Expand(ctx context.Context, t *dburl.URL, files []string) (ExpandInfo, error) {
	if t.Engine == dburl.Mongo {
		return e.mongoRun(ctx, t, func(c *mongo.Client) (*mongoec.Result, error) {
			migs, err := readMongoMigrations(files)
			if err != nil {
				return nil, err
			}
			return mongoec.Expand(ctx, c, t.Database(), migs, e.Mongo)
		})
	}
	var migs []*expandcontract.Migration
	for _, f := range files {
		m, err := expandcontract.ReadFile(f)
		if err != nil {
			return ExpandInfo{}, err
		}
		migs = append(migs, m)
	}
	info, err := e.pgRun(ctx, t, func(p *pgxpool.Pool, o expandcontract.Options) (*expandcontract.Result, error) {
		return expandcontract.Expand(ctx, p, migs, o)
	})
	if err != nil {
		return info, err
	}
	// The backfill is done when Expand returns: report its rows.
	if st, serr := e.ExpandStatus(ctx, t); serr == nil {
		info.BackfillRows, info.BackfillTotal = st.BackfillRows, st.BackfillRows
	}
	return info, nil
}

// Contract finishes the in-flight migrations (after the drain check).
func (e ExpandContract) Contract(ctx context.Context, t *dburl.URL) (ExpandInfo, error) {
	if t.Engine == dburl.Mongo {
		return e.mongoRun(ctx, t, func(c *mongo.Client) (*mongoec.Result, error) {
			return mongoec.Contract(ctx, c, t.Database(), e.Mongo)
		})
	}
	return e.pgRun(ctx, t, func(p *pgxpool.Pool, o expandcontract.Options) (*expandcontract.Result, error) {
		return expandcontract.Contract(ctx, p, o)
	})
}

// RollbackExpand undoes the in-flight migrations (nothing in flight: no-op).
func (e ExpandContract) RollbackExpand(ctx context.Context, t *dburl.URL) (ExpandInfo, error) {
	if t.Engine == dburl.Mongo {
		return e.mongoRun(ctx, t, func(c *mongo.Client) (*mongoec.Result, error) {
			return mongoec.Rollback(ctx, c, t.Database(), e.Mongo)
		})
	}
	return e.pgRun(ctx, t, func(p *pgxpool.Pool, o expandcontract.Options) (*expandcontract.Result, error) {
		return expandcontract.Rollback(ctx, p, o)
	})
}

// pgRun runs fn with a pool and the options, the dialect set for
// CockroachDB (asked of the server: its version decides the contract).
func (e ExpandContract) pgRun(ctx context.Context, t *dburl.URL, fn func(*pgxpool.Pool, expandcontract.Options) (*expandcontract.Result, error)) (ExpandInfo, error) {
	p, err := e.pool(ctx, t)
	if err != nil {
		return ExpandInfo{}, err
	}
	defer p.Close()
	o := e.Options
	if t.Engine == dburl.Cockroach && o.Dialect == nil {
		d, err := expandcontract.DetectCockroach(ctx, p)
		if err != nil {
			return ExpandInfo{}, err
		}
		d.URL = t
		o.Dialect = d
	}
	r, err := fn(p, o)
	if r == nil || r.NothingToDo {
		return ExpandInfo{Migrations: []string{}}, err
	}
	return ExpandInfo{Migrations: r.Migrations, VersionSchema: r.VersionSchema, SearchPath: r.VersionSchema, Phase: r.Phase}, err
}

func (e ExpandContract) mongoRun(ctx context.Context, t *dburl.URL, fn func(*mongo.Client) (*mongoec.Result, error)) (ExpandInfo, error) {
	c, err := mongoClient(ctx, t)
	if err != nil {
		return ExpandInfo{}, err
	}
	defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	r, err := fn(c)
	info := ExpandInfo{Migrations: []string{}}
	if r == nil {
		return info, err
	}
	for _, m := range r.Migrations {
		if !m.Unchanged {
			info.Migrations = append(info.Migrations, m.Name)
		}
		info.Phase = string(m.Phase)
		for _, p := range m.Backfill {
			info.BackfillRows += p.Written
		}
	}
	return info, err
}

// ExpandStatus reports the migrations in flight.
func (e ExpandContract) ExpandStatus(ctx context.Context, t *dburl.URL) (ExpandInfo, error) {
	info := ExpandInfo{Migrations: []string{}}
	if t.Engine == dburl.Mongo {
		c, err := mongoClient(ctx, t)
		if err != nil {
			return info, err
		}
		defer c.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
		st, err := mongoec.Status(ctx, c, t.Database())
		if err != nil {
			return info, err
		}
		for _, m := range st.Migrations {
			if m.InFlight {
				info.Migrations, info.Phase = append(info.Migrations, m.Name), string(m.Phase)
			}
		}
		return info, nil
	}
	p, err := e.pool(ctx, t)
	if err != nil {
		return info, err
	}
	defer p.Close()
	st, err := expandcontract.Status(ctx, p)
	if err != nil {
		return info, err
	}
	for _, v := range st.Versions {
		if !v.Active {
			continue
		}
		info.VersionSchema, info.SearchPath, info.Phase = v.VersionSchema, v.VersionSchema, v.Phase
		for _, m := range v.Migrations {
			info.Migrations = append(info.Migrations, m.Name)
		}
		for _, b := range v.Backfills {
			info.BackfillRows += b.Rows
		}
	}
	return info, nil
}

func readMongoMigrations(files []string) ([]*mongoec.Migration, error) {
	var migs []*mongoec.Migration
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		m, err := mongoec.Parse(fh, f)
		fh.Close()
		if err != nil {
			return nil, err
		}
		migs = append(migs, m)
	}
	return migs, nil
}
