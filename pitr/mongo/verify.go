package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/tidemark/tidemark/pitr"
)

// Verify checks the marker document, the external command's record and the
// collection copies' checksums (re-reading .bson files); with Drill it also
// loads each snapshot copy into a scratch database and checksums that.
func (p *Provider) Verify(ctx context.Context, label string, o pitr.VerifyOptions) (*pitr.VerifyReport, error) {
	m, err := p.Get(ctx, label)
	if err != nil {
		return nil, err
	}
	r := pitr.NewVerifyReport(label)
	t0 := time.Now()
	err = p.client.Database(StateDB).Collection(MarkersColl).FindOne(ctx, bson.D{{Key: "_id", Value: m.Position.MarkerID}}).Err()
	if errors.Is(err, mongo.ErrNoDocuments) {
		err = fmt.Errorf("marker document %s is missing", m.Position.MarkerID)
	}
	r.Add("marker recorded", err, m.Position.MarkerID)
	if m.External != nil {
		var cerr error
		if m.External.ExitCode != 0 {
			cerr = fmt.Errorf("external command exited %d", m.External.ExitCode)
		}
		r.Add("external backup", cerr, m.External.Command)
	}
	detail := fmt.Sprintf("%d collections", len(m.Tables))
	if inFiles(m) {
		detail = fmt.Sprintf("%d .bson files in %s re-read", len(m.Tables), m.SnapshotStore)
	}
	r.Add("snapshot collections intact", p.checkCopies(ctx, m.Tables, ""), detail)
	r.Timings["checks"] = pitr.Lap(&t0)
	if o.Drill {
		scratch := pitr.StoreName("tmdrill_", p.u.Database()+"_"+label)
		err := p.checkCopies(ctx, m.Tables, scratch)
		r.Timings["drill"] = pitr.Lap(&t0)
		p.client.Database(scratch).Drop(context.WithoutCancel(ctx)) //nolint:errcheck
		r.Timings["drill_cleanup"] = pitr.Lap(&t0)
		r.Add("restore drill", err, "collections copied into "+scratch+" and compared, then dropped")
	}
	return r, r.Err()
}

// checkCopies compares each snapshot copy (a collection or a re-read .bson
// file; with scratch set, a fresh copy of it loaded into the scratch
// database) with the manifest.
func (p *Provider) checkCopies(ctx context.Context, tables []pitr.TableSum, scratch string) error {
	var bad []string
	for _, t := range tables {
		var n int64
		var sum string
		var err error
		if scratch != "" {
			to := p.client.Database(scratch).Collection(t.Name)
			if err := p.fill(ctx, t, to); err != nil {
				return err
			}
			n, sum, err = Checksum(ctx, to)
		} else {
			n, sum, err = p.copySum(ctx, t)
		}
		if err != nil {
			return err
		}
		if n != t.Rows || sum != t.Checksum {
			bad = append(bad, fmt.Sprintf("%s: %d documents/%s, manifest %d/%s", t.Copy, n, sum, t.Rows, t.Checksum))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("checksums differ: %s", strings.Join(bad, "; "))
	}
	return nil
}

// copyColl is the snapshot copy of a covered collection.
func (p *Provider) copyColl(t pitr.TableSum) *mongo.Collection {
	db, coll, _ := strings.Cut(t.Copy, ".")
	return p.client.Database(db).Collection(coll)
}
