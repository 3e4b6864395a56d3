package mongo

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/tidemark/tidemark/internal/errkind"
)

// lockDoc is the per-database expand/contract lock: a lease renewed while a
// run works. A lease held by a process that no longer exists on this host
// (kill -9) is taken over at once; any other expires after lease.
type lockDoc struct {
	ID      string    `bson:"_id"`
	Owner   string    `bson:"owner"`
	Host    string    `bson:"host"`
	PID     int       `bson:"pid"`
	Expires time.Time `bson:"expires"`
}

type lock struct {
	st    *store
	owner string
	lease time.Duration
}

func (st *store) lock(ctx context.Context, lease time.Duration) (*lock, error) {
	host, _ := os.Hostname()
	l := &lock{st: st, lease: lease, owner: fmt.Sprintf("%s/%d/%d", host, os.Getpid(), time.Now().UnixNano())}
	coll := st.client.Database(StateDatabase).Collection(lockCollection)
	me := lockDoc{ID: st.db, Owner: l.owner, Host: host, PID: os.Getpid(), Expires: time.Now().Add(lease)}
	_, err := coll.InsertOne(ctx, me)
	if err == nil {
		return l, nil
	}
	if !isCode(err, codeDuplicateKey) {
		return nil, fmt.Errorf("take lock: %w", err)
	}
	var cur lockDoc
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: st.db}}).Decode(&cur); err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	if time.Now().Before(cur.Expires) && !(cur.Host == host && !alive(cur.PID)) {
		return nil, fmt.Errorf("%w: another tidemark run (pid %d on %s) holds the expand/contract lock of database %s until %s",
			errkind.ErrTemporary, cur.PID, cur.Host, st.db, cur.Expires.Format(time.RFC3339))
	}
	res, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: st.db}, {Key: "owner", Value: cur.Owner}}, me)
	if err != nil {
		return nil, fmt.Errorf("take lock: %w", err)
	}
	if res.MatchedCount == 0 {
		return nil, fmt.Errorf("%w: another tidemark run took the expand/contract lock of database %s", errkind.ErrTemporary, st.db)
	}
	return l, nil
}

// renew extends the lease; it fails if another run took the lock over.
func (l *lock) renew(ctx context.Context) error {
	coll := l.st.client.Database(StateDatabase).Collection(lockCollection)
	res, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.st.db}, {Key: "owner", Value: l.owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: time.Now().Add(l.lease)}}}})
	if err != nil {
		return fmt.Errorf("renew lock: %w", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("%w: lost the expand/contract lock of database %s", errkind.ErrTemporary, l.st.db)
	}
	return nil
}

func (l *lock) release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	coll := l.st.client.Database(StateDatabase).Collection(lockCollection)
	_, _ = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: l.st.db}, {Key: "owner", Value: l.owner}})
}

func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
