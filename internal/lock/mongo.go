package lock

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/tidemark/tidemark/internal/dburl"
)

// mongoLock is a lease document {_id: "<database>/<key>", token, host, pid, since, what,
// expires_at} in tidemark.locks. Expiry uses this machine's clock.
type mongoLock struct {
	client *mongo.Client
	coll   *mongo.Collection
	key    string
	token  string
	opts   Options
}

type leaseDoc struct {
	Key       string    `bson:"_id"`
	Token     string    `bson:"token"`
	Host      string    `bson:"host"`
	PID       int       `bson:"pid"`
	Since     time.Time `bson:"since"`
	What      string    `bson:"what"`
	ExpiresAt time.Time `bson:"expires_at"`
}

func openMongo(ctx context.Context, target *dburl.URL, key string, opts Options) (backend, error) {
	client, err := mongo.Connect(ctx, options.Client().ApplyURI(target.Raw).SetServerSelectionTimeout(10*time.Second))
	if err != nil {
		return nil, err
	}
	if err := client.Ping(ctx, nil); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, err
	}
	coll := client.Database("tidemark").Collection("locks")
	// One tidemark database serves every database on the server: the
	// document id names the target database too.
	id := target.Database() + "/" + key
	return &mongoLock{client: client, coll: coll, key: id, token: newToken(), opts: opts}, nil
}

func (l *mongoLock) doc() leaseDoc {
	now := time.Now().UTC()
	h := l.opts.Holder
	return leaseDoc{Key: l.key, Token: l.token, Host: h.Host, PID: h.PID, Since: now, What: h.What, ExpiresAt: now.Add(l.opts.Lease)}
}

func (l *mongoLock) try(ctx context.Context) (bool, Holder, error) {
	d := l.doc()
	_, err := l.coll.InsertOne(ctx, d)
	if err == nil {
		return true, d.holder(), nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return false, Holder{}, err
	}
	// Take an expired lease over.
	res, err := l.coll.ReplaceOne(ctx, bson.M{"_id": l.key, "expires_at": bson.M{"$lt": d.Since}}, d)
	if err != nil {
		return false, Holder{}, err
	}
	if res.ModifiedCount == 1 {
		return true, d.holder(), nil
	}
	var cur leaseDoc
	err = l.coll.FindOne(ctx, bson.M{"_id": l.key}).Decode(&cur)
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = nil
	}
	return false, cur.holder(), err
}

func (d leaseDoc) holder() Holder {
	return Holder{Host: d.Host, PID: d.PID, Since: d.Since, What: d.What}
}

func (l *mongoLock) renew(ctx context.Context) error {
	res, err := l.coll.UpdateOne(ctx, bson.M{"_id": l.key, "token": l.token},
		bson.M{"$set": bson.M{"expires_at": time.Now().UTC().Add(l.opts.Lease)}})
	if err == nil && res.MatchedCount == 0 {
		err = errLost
	}
	return err
}

func (l *mongoLock) release(ctx context.Context) error {
	_, err := l.coll.DeleteOne(ctx, bson.M{"_id": l.key, "token": l.token})
	return err
}

func (l *mongoLock) close(ctx context.Context) { _ = l.client.Disconnect(ctx) }
