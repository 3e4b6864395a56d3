package reconcile

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// execute runs one action; false means it found the rows changed (stale).
func (ap *applier) execute(ctx context.Context, inv *Invariant, a *Action, retry bool) (bool, string, error) {
	switch a.Type {
	case "sql":
		return ap.execSQL(ctx, inv, a)
	case "mongo":
		return ap.execMongo(ctx, a)
	case "event":
		if a.File != "" {
			return ap.execFileEvent(a, retry)
		}
		return ap.execOutbox(ctx, a)
	}
	return false, "", fmt.Errorf("unknown action type %q", a.Type)
}

// execSQL runs the statement in a SERIALIZABLE transaction that first reads
// again the break's rows living in the same database: the statement runs
// only if they still have the observed versions, and a concurrent write
// makes the transaction fail rather than be overwritten.
func (ap *applier) execSQL(ctx context.Context, inv *Invariant, a *Action) (bool, string, error) {
	target := ap.rules.Source(a.On)
	db := ap.dbs[target.Database].(*sqlDB)
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return false, "", err
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	key := keyValues(inv, a.KeyValues)
	sides := []struct {
		side *Side
		want string
		agg  bool
	}{{&inv.Left, a.Observed.Left, false}, {&inv.Right, a.Observed.Right, inv.Kind == KindAggregate}}
	for _, s := range sides {
		if s.side.Source.Database != target.Database {
			continue
		}
		g, err := lookupTx(ctx, tx, db.d, s.side, key, s.agg)
		if err != nil {
			return false, "", err
		}
		if g.version(s.side) != s.want {
			return false, "rows changed since the plan", nil
		}
	}
	tag, err := tx.Exec(ctx, a.Statement, sqlParams(a.Params)...)
	if err != nil {
		return false, "", err
	}
	if err := tx.Commit(ctx); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "40001" {
			return false, "a concurrent write touched the rows", nil
		}
		return false, "", err
	}
	return true, fmt.Sprintf("%d row(s)", tag.RowsAffected()), nil
}

func lookupTx(ctx context.Context, tx pgx.Tx, d sqlDialect, side *Side, key []any, agg bool) (*group, error) {
	rows, err := tx.Query(ctx, d.Lookup(side.Source), keyParams(side.Source.Key, key)...)
	if err != nil {
		return nil, err
	}
	list, err := collectRows(rows, side.Source)
	if err != nil {
		return nil, err
	}
	g := &grouper{s: &sliceStream{rows: list}, side: side, agg: agg}
	return g.next(ctx)
}

// sqlParams converts plan parameters (JSON) to driver values.
func sqlParams(ps []any) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		if n, ok := p.(json.Number); ok {
			if v, err := n.Int64(); err == nil {
				out[i] = v
			} else {
				out[i] = n.String()
			}
			continue
		}
		out[i] = p
	}
	return out
}

// execMongo runs updateOne with the planned filter (which should name the
// observed values, so a newer write makes it match nothing).
func (ap *applier) execMongo(ctx context.Context, a *Action) (bool, string, error) {
	target := ap.rules.Source(a.On)
	db := ap.dbs[target.Database].(*mongoDB)
	var filter, update bson.D
	if err := bson.UnmarshalExtJSON(a.Filter, false, &filter); err != nil {
		return false, "", fmt.Errorf("filter: %w", err)
	}
	if err := bson.UnmarshalExtJSON(a.Update, false, &update); err != nil {
		return false, "", fmt.Errorf("update: %w", err)
	}
	res, err := db.db.Collection(a.Collection).UpdateOne(ctx, filter, update, options.Update().SetUpsert(a.Upsert))
	if err != nil {
		return false, "", err
	}
	if res.MatchedCount == 0 && res.UpsertedCount == 0 {
		return false, "the document changed since the plan (filter matched nothing)", nil
	}
	return true, fmt.Sprintf("%d matched, %d modified, %d upserted", res.MatchedCount, res.ModifiedCount, res.UpsertedCount), nil
}

// event is what a compensation event looks like in an outbox or file.
type event struct {
	EventID string          `json:"event_id"`
	Type    string          `json:"event_type"`
	Payload json.RawMessage `json:"payload"`
}

// execOutbox inserts the event keyed by the action id: exactly once.
func (ap *applier) execOutbox(ctx context.Context, a *Action) (bool, string, error) {
	db := ap.dbs[ap.rules.Source(a.On).Database].(*sqlDB)
	table := pgx.Identifier(strings.Split(a.OutboxTable, ".")).Sanitize()
	if _, err := db.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+table+` (event_id text PRIMARY KEY, event_type text NOT NULL,
		payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return false, "", fmt.Errorf("outbox: %w", err)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO `+table+`(event_id, event_type, payload) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING`,
		a.ID, a.EventType, string(a.Payload))
	if err != nil {
		return false, "", fmt.Errorf("outbox: %w", err)
	}
	return true, "event " + a.EventType + " in " + a.OutboxTable, nil
}

// execFileEvent appends one JSON line; after a crash (retry) it first looks
// for the event id in the file, so the event is written once.
func (ap *applier) execFileEvent(a *Action, retry bool) (bool, string, error) {
	if retry {
		if found, err := fileHasEvent(a.File, a.ID); err != nil || found {
			return found, "event already in " + a.File, err
		}
	}
	line, err := json.Marshal(event{EventID: a.ID, Type: a.EventType, Payload: a.Payload})
	if err != nil {
		return false, "", err
	}
	f, err := os.OpenFile(a.File, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return false, "", fmt.Errorf("event file: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return false, "", fmt.Errorf("event file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return false, "", err
	}
	return true, "event " + a.EventType + " in " + a.File, f.Close()
}

func fileHasEvent(path, id string) (bool, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil && e.EventID == id {
			return true, nil
		}
	}
	return false, sc.Err()
}
