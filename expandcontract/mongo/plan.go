package mongo

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Plan is what Expand, Contract and Rollback will do (for --plan).
type Plan struct {
	Database     string          `json:"database"`
	Capabilities Capabilities    `json:"capabilities"`
	Migrations   []PlanMigration `json:"migrations"`
}

// PlanMigration lists one migration's steps per phase.
type PlanMigration struct {
	Name  string     `json:"name"`
	File  string     `json:"file"`
	Steps []PlanStep `json:"steps"`
}

// PlanStep is one step: its phase, stable ID and what it does.
type PlanStep struct {
	Phase       string `json:"phase"`
	ID          string `json:"id"`
	Collection  string `json:"collection,omitempty"`
	Description string `json:"description"`
	// Documents is the collection's estimated document count for backfills.
	Documents int64 `json:"documents,omitempty"`
}

// Capabilities are the server features tidemark adapts to.
type Capabilities struct {
	// UpdatePipelines: update with an aggregation pipeline. tidemark does not
	// need it (it evaluates up/down itself); reported for information.
	UpdatePipelines bool `json:"update_pipelines"`
	// CollMod: validators can be set; without it they are recorded only.
	CollMod bool `json:"collmod"`
}

// PlanExpand describes the steps of migs on db without changing db (it writes
// only a probe document in the tidemark database to detect capabilities).
func PlanExpand(ctx context.Context, client *mongo.Client, db string, migs []*Migration) (*Plan, error) {
	if err := checkNames(migs); err != nil {
		return nil, err
	}
	caps, err := Probe(ctx, client)
	if err != nil {
		return nil, err
	}
	p := &Plan{Database: db, Capabilities: caps}
	for _, m := range migs {
		pm := PlanMigration{Name: m.Name, File: m.File}
		for _, st := range stepsOf(m, caps) {
			if strings.HasPrefix(st.ID, "sync-") {
				st.Documents, err = client.Database(db).Collection(st.Collection).EstimatedDocumentCount(ctx)
				if err != nil {
					return nil, fmt.Errorf("count %s: %w", st.Collection, err)
				}
			}
			pm.Steps = append(pm.Steps, st)
		}
		p.Migrations = append(p.Migrations, pm)
	}
	return p, nil
}

// stepsOf lists a migration's steps in the order the phases run them.
func stepsOf(m *Migration, caps Capabilities) []PlanStep {
	var out []PlanStep
	add := func(phase, id, format string, args ...any) {
		out = append(out, PlanStep{Phase: phase, ID: id, Description: fmt.Sprintf(format, args...)})
	}
	enforced := "collMod, validationLevel moderate"
	if !caps.CollMod {
		enforced = "recorded in state only: this server has no collMod, so it is NOT enforced"
	}
	for _, c := range m.collections() {
		add("expand", "validator:"+c, "record the validator of %s, then set one accepting both shapes (%s)", c, enforced)
	}
	for _, op := range m.Operations {
		if op.Kind == CreateIndex {
			add("expand", "index:"+op.Name, "create index %s on %s %v (unique: %v)", op.Name, op.Collection, keysString(op.Keys), op.Unique)
		}
	}
	for i := range m.Operations {
		if s := specFor(m, i); s != nil {
			add("expand", s.ID, "backfill %s in batches by _id: read, evaluate in tidemark, conditional bulk updates; cursor saved per batch; repeat passes until one writes nothing", s)
			out[len(out)-1].Collection = s.Collection
		}
	}
	for i, op := range m.Operations {
		if f := oldFields(op); len(f) > 0 {
			add("contract", fmt.Sprintf("unset:%d", i), "converge old-version writes, then $unset %v in %s", f, op.Collection)
		}
		if op.Kind == DropIndex {
			add("contract", "drop-index:"+op.Name, "drop index %s on %s (kept during expand for the old version)", op.Name, op.Collection)
		}
	}
	for _, c := range m.collections() {
		add("contract", "validator:"+c, "require the new shape in %s's validator (validationLevel strict)", c)
	}
	for i, op := range m.Operations {
		if f := newFields(op); len(f) > 0 {
			add("rollback", fmt.Sprintf("unset:%d", i), "converge new-version writes down, then $unset %v in %s", f, op.Collection)
		}
		if op.Kind == CreateIndex {
			add("rollback", "drop-index:"+op.Name, "drop index %s on %s", op.Name, op.Collection)
		}
	}
	for _, c := range m.collections() {
		add("rollback", "validator:"+c, "restore %s's recorded validator", c)
	}
	return out
}

func keysString(k bson.D) string {
	var parts []string
	for _, e := range k {
		parts = append(parts, fmt.Sprintf("%s: %v", e.Key, e.Value))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Probe detects the capabilities of the server behind client, using a probe
// collection in the tidemark database.
func Probe(ctx context.Context, client *mongo.Client) (Capabilities, error) {
	var c Capabilities
	coll := client.Database(StateDatabase).Collection("ec_probe")
	_, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "probe"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}, options.Update().SetUpsert(true))
	if err != nil {
		return c, fmt.Errorf("probe server: %w", err)
	}
	_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "probe"}}, bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "y", Value: "$x"}}}}})
	c.UpdatePipelines = err == nil
	err = client.Database(StateDatabase).RunCommand(ctx, bson.D{{Key: "collMod", Value: "ec_probe"}, {Key: "validator", Value: bson.D{}}}).Err()
	c.CollMod = err == nil
	return c, nil
}
