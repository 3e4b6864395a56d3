package migrator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/internal/dburl"
)

// mongoEngine runs golang-migrate JSON command files with RunCommand, one
// command at a time (FerretDB and standalone servers have no multi-document
// transactions, so every Mongo migration is non-transactional and resumable).
// Its history lives in the `tidemark` database (collections migrate_versions
// and migrate_history), keyed by the target database name.
type mongoEngine struct {
	client   *mongo.Client
	db       *mongo.Database
	versions *mongo.Collection
	hist     *mongo.Collection
	dbName   string
	dbUser   string
	timeout  time.Duration
}

type mongoVersion struct {
	ID        string    `bson:"_id"`
	DB        string    `bson:"db"`
	Version   int64     `bson:"version"`
	Name      string    `bson:"name"`
	Checksum  string    `bson:"checksum"`
	AppliedAt time.Time `bson:"applied_at"`
	HistoryID int64     `bson:"history_id"`
}

func openMongo(ctx context.Context, u *dburl.URL, opts Options) (*mongoEngine, error) {
	if u.Database() == "" {
		return nil, fmt.Errorf("the MongoDB URL names no database: want mongodb://host:port/dbname")
	}
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(u.Raw).SetServerSelectionTimeout(10*time.Second))
	if err != nil {
		return nil, err
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	st := client.Database("tidemark")
	return &mongoEngine{client: client, db: client.Database(u.Database()), dbName: u.Database(), dbUser: u.User(),
		versions: st.Collection("migrate_versions"), hist: st.Collection("migrate_history"), timeout: opts.StatementTimeout}, nil
}

func (e *mongoEngine) user() string              { return e.dbUser }
func (e *mongoEngine) close(ctx context.Context) { _ = e.client.Disconnect(ctx) }

func (e *mongoEngine) applied(ctx context.Context) ([]Applied, error) {
	cur, err := e.versions.Find(ctx, bson.M{"db": e.dbName}, options.Find().SetSort(bson.M{"version": 1}))
	if err != nil {
		return nil, err
	}
	var docs []mongoVersion
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]Applied, 0, len(docs))
	for _, d := range docs {
		out = append(out, Applied{Version: uint64(d.Version), Name: d.Name, Checksum: d.Checksum, AppliedAt: d.AppliedAt})
	}
	return out, nil
}

// mongoAttempt is an Attempt as stored, with the target database.
type mongoAttempt struct {
	Attempt `bson:",inline"`
	DB      string `bson:"db"`
}

func (e *mongoEngine) history(ctx context.Context) ([]Attempt, error) {
	return e.findAttempts(ctx, bson.M{"db": e.dbName}, options.Find().SetSort(bson.M{"id": 1}))
}

func (e *mongoEngine) findAttempts(ctx context.Context, filter bson.M, opts *options.FindOptions) ([]Attempt, error) {
	cur, err := e.hist.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []mongoAttempt
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]Attempt, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.Attempt)
	}
	return out, nil
}

func (e *mongoEngine) lastAttempt(ctx context.Context, version uint64, direction string) (*Attempt, error) {
	as, err := e.findAttempts(ctx, bson.M{"db": e.dbName, "version": int64(version), "direction": direction},
		options.Find().SetSort(bson.M{"id": -1}).SetLimit(1))
	if err != nil || len(as) == 0 {
		return nil, err
	}
	return &as[0], nil
}

func (e *mongoEngine) interruptStale(ctx context.Context) error {
	_, err := e.hist.UpdateMany(ctx, bson.M{"db": e.dbName, "result": ResultRunning},
		bson.M{"$set": bson.M{"result": ResultInterrupted}})
	return err
}

func (e *mongoEngine) apply(ctx context.Context, j *job) (*Attempt, error) {
	now := time.Now().UTC()
	a := &Attempt{ID: now.UnixNano(), Version: j.mig.Version, Name: j.mig.Name, Direction: j.dir, File: j.script.File,
		Checksum: j.script.Checksum, StartedAt: now, Host: j.host, User: e.dbUser, Result: ResultRunning,
		StatementsDone: j.resume, StatementsTotal: len(j.script.Statements), ResumedFrom: j.resume,
		DoneChecksum: prefixChecksum(j.script.Statements, j.resume)}
	if _, err := e.hist.InsertOne(ctx, mongoAttempt{Attempt: *a, DB: e.dbName}); err != nil {
		return nil, fmt.Errorf("record attempt: %w", err)
	}
	err := e.run(ctx, j, a)
	if err == nil {
		err = e.finish(ctx, j, a)
	}
	if err != nil {
		a.failure(err)
	}
	end := time.Now().UTC()
	a.FinishedAt, a.DurationMS = &end, end.Sub(a.StartedAt).Milliseconds()
	if uerr := e.save(context.WithoutCancel(ctx), a); uerr != nil {
		err = errors.Join(err, fmt.Errorf("record result: %w", uerr))
	}
	return a, err
}

func (e *mongoEngine) run(ctx context.Context, j *job, a *Attempt) error {
	stmts := j.script.Statements
	for i := j.resume; i < len(stmts); i++ {
		if err := e.command(ctx, stmts[i].SQL); err != nil {
			return &StatementError{File: j.script.File, Line: stmts[i].Line, Index: i + 1, Statement: stmts[i].SQL, Err: err}
		}
		a.StatementsDone, a.DoneChecksum = i+1, prefixChecksum(stmts, i+1)
		if err := e.save(context.WithoutCancel(ctx), a); err != nil {
			return fmt.Errorf("record progress: %w", err)
		}
	}
	return nil
}

// command runs one database command and fails on write errors too, which
// RunCommand reports inside an ok:1 reply.
func (e *mongoEngine) command(ctx context.Context, text string) error {
	var cmd bson.D
	if err := bson.UnmarshalExtJSON([]byte(text), true, &cmd); err != nil {
		return err
	}
	if e.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.timeout)
		defer cancel()
	}
	var reply bson.M
	if err := e.db.RunCommand(ctx, cmd).Decode(&reply); err != nil {
		return err
	}
	if we, ok := reply["writeErrors"]; ok {
		return fmt.Errorf("write errors: %v", we)
	}
	return nil
}

func (e *mongoEngine) finish(ctx context.Context, j *job, a *Attempt) error {
	id := fmt.Sprintf("%s/%d", e.dbName, a.Version)
	var err error
	if j.dir == DirUp {
		_, err = e.versions.ReplaceOne(ctx, bson.M{"_id": id}, mongoVersion{ID: id, DB: e.dbName, Version: int64(a.Version),
			Name: a.Name, Checksum: j.script.Checksum, AppliedAt: time.Now().UTC(), HistoryID: a.ID}, options.Replace().SetUpsert(true))
	} else {
		_, err = e.versions.DeleteOne(ctx, bson.M{"_id": id})
	}
	if err != nil {
		return fmt.Errorf("record version: %w", err)
	}
	a.Result = ResultSucceeded
	return nil
}

func (e *mongoEngine) save(ctx context.Context, a *Attempt) error {
	_, err := e.hist.ReplaceOne(ctx, bson.M{"id": a.ID, "db": e.dbName}, mongoAttempt{Attempt: *a, DB: e.dbName})
	return err
}
