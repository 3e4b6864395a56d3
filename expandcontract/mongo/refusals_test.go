package mongo_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	ecmongo "github.com/tidemark/tidemark/expandcontract/mongo"
	"github.com/tidemark/tidemark/internal/errkind"
)

func TestExpandRefusals(t *testing.T) {
	d := openDB(t)
	d.insert("customers", bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "Ada"}})
	m1 := parse(t, "m1.yaml", "operations:\n  - rename_field: {collection: customers, from: name, to: full_name}\n")
	d.expand(m1)

	changed := parse(t, "m1.yaml", "operations:\n  - rename_field: {collection: customers, from: name, to: fullname}\n")
	_, err := ecmongo.Expand(d.ctx, d.client, d.name, []*ecmongo.Migration{changed}, d.opts())
	if !errors.Is(err, ecmongo.ErrChanged) || errkind.ExitCode(err) != 3 {
		t.Errorf("changed file: %v", err)
	}
	other := parse(t, "m2.yaml", "operations:\n  - add_field: {collection: customers, field: x, default: 1}\n")
	_, err = ecmongo.Expand(d.ctx, d.client, d.name, []*ecmongo.Migration{other}, d.opts())
	if !errors.Is(err, ecmongo.ErrInFlight) || errkind.ExitCode(err) != 3 {
		t.Errorf("other migration in flight: %v", err)
	}

	// a live run's lock (this very process, another owner) makes it exit 75
	host, _ := os.Hostname()
	locks := d.client.Database(ecmongo.StateDatabase).Collection("ec_locks")
	if _, err := locks.InsertOne(d.ctx, bson.D{{Key: "_id", Value: d.name}, {Key: "owner", Value: "other"}, {Key: "host", Value: host},
		{Key: "pid", Value: os.Getpid()}, {Key: "expires", Value: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	_, err = ecmongo.Contract(d.ctx, d.client, d.name, d.opts())
	if errkind.ExitCode(err) != 75 {
		t.Errorf("lock held: %v", err)
	}
	if _, err := locks.DeleteOne(d.ctx, bson.D{{Key: "_id", Value: d.name}}); err != nil {
		t.Fatal(err)
	}
	d.contract()
	if st, err := ecmongo.Status(d.ctx, d.client, d.name); err != nil || st.Migrations[0].Phase != ecmongo.PhaseContracted {
		t.Errorf("status %+v %v", st, err)
	}
}
