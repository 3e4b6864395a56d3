package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"

	"go.mongodb.org/mongo-driver/mongo"
)

// run is one Expand, Contract or Rollback call holding the database's lock.
type run struct {
	client *mongo.Client
	dbName string
	st     *store
	opts   Options
	lk     *lock
	// ferret: the server is FerretDB (buildInfo has ferretdbVersion).
	ferret bool
}

func newRun(ctx context.Context, client *mongo.Client, db string, opts Options) (*run, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if db == "" || db == StateDatabase {
		return nil, errUsage("database name %q: name the application database in the URL path", db)
	}
	r := &run{client: client, dbName: db, st: &store{client: client, db: db}, opts: opts.withDefaults()}
	info, err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return nil, fmt.Errorf("buildInfo: %w", err)
	}
	_, ferr := info.LookupErr("ferretdbVersion")
	r.ferret = ferr == nil
	lk, err := r.st.lock(ctx, r.opts.LockLease)
	if err != nil {
		return nil, err
	}
	r.lk = lk
	return r, nil
}

func (r *run) close() { r.lk.release() }

// beginFinish starts a Contract or Rollback: the run (holding the lock) and
// the recorded migrations, refused when refuse names a migration whose
// phase does not allow it. The caller closes the run.
func beginFinish(ctx context.Context, client *mongo.Client, db string, opts Options, refuse func(*migState) error) (*run, []*migState, error) {
	r, err := newRun(ctx, client, db, opts)
	if err != nil {
		return nil, nil, err
	}
	states, err := r.st.list(ctx)
	if err == nil {
		for _, s := range states {
			if err = refuse(s); err != nil {
				break
			}
		}
	}
	if err != nil {
		r.close()
		return nil, nil, err
	}
	return r, states, nil
}

func (r *run) db() *mongo.Database { return r.client.Database(r.dbName) }

func (r *run) coll(name string) *mongo.Collection { return r.db().Collection(name) }

func (r *run) hook(point string) {
	r.opts.Logger.Debug("step", "point", point)
	if r.opts.Hook != nil {
		r.opts.Hook(point)
	}
}

// saveRenew saves the migration state and renews the lock lease.
func (r *run) saveRenew(ctx context.Context, s *migState) error {
	if err := r.st.save(ctx, s); err != nil {
		return err
	}
	return r.lk.renew(ctx)
}

// step runs fn once per migration: skipped when the state says it is done.
func (r *run) step(ctx context.Context, s *migState, id string, fn func() error) error {
	key := string(s.Phase) + ":" + id
	if s.done(key) {
		return nil
	}
	r.hook(key + ":before")
	if err := fn(); err != nil {
		return err
	}
	if err := r.st.markDone(ctx, s, key); err != nil {
		return err
	}
	r.hook(key + ":after")
	return nil
}
