package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Plan is the fix-up plan computed from a report: every action with the row
// versions it was computed from. Hash identifies it (sha256 of its canonical
// JSON without the hash field).
type Plan struct {
	Version   int       `json:"version"`
	Rules     string    `json:"rules"`
	RulesHash string    `json:"rules_hash"`
	RunID     string    `json:"run_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Actions   []*Action `json:"actions"`
	NoFixup   []NoFixup `json:"breaks_without_fixup"`
	Hash      string    `json:"hash"`
}

// NoFixup is a break the rules give no fix-up for (reported, not fixed).
type NoFixup struct {
	Invariant string `json:"invariant"`
	Kind      string `json:"kind"`
	Key       string `json:"key"`
}

// Action is one fix-up for one break.
type Action struct {
	ID        string   `json:"id"` // idempotency key: hash(rule, kind, key, observed versions)
	Invariant string   `json:"invariant"`
	Kind      string   `json:"kind"`
	Key       string   `json:"key"`
	KeyValues []any    `json:"key_values"`
	Observed  Observed `json:"observed"`
	Type      string   `json:"type"` // sql, mongo or event
	On        string   `json:"on,omitempty"`
	Amount    int64    `json:"amount_minor"`

	Statement string `json:"statement,omitempty"`
	Params    []any  `json:"params,omitempty"`

	Collection string          `json:"collection,omitempty"`
	Filter     json.RawMessage `json:"filter,omitempty"`
	Update     json.RawMessage `json:"update,omitempty"`
	Upsert     bool            `json:"upsert,omitempty"`

	EventType   string          `json:"event_type,omitempty"`
	Payload     json.RawMessage `json:"payload,omitempty"`
	OutboxTable string          `json:"outbox_table,omitempty"`
	File        string          `json:"file,omitempty"`
}

// Observed is the row versions an action was computed from.
type Observed struct {
	Left  string `json:"left"`
	Right string `json:"right"`
}

// MakePlan turns the report's breaks into actions.
func MakePlan(ctx context.Context, rules *Rules, report *Report) (*Plan, error) {
	p := &Plan{Version: 1, Rules: rules.File, RulesHash: rules.Hash, RunID: report.RunID,
		CreatedAt: time.Now().UTC().Truncate(time.Second), Actions: []*Action{}, NoFixup: []NoFixup{}}
	byName := map[string]*Invariant{}
	for _, inv := range rules.Invariants {
		byName[inv.Name] = inv
	}
	for _, b := range report.Breaks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		inv := byName[b.Invariant]
		if inv == nil {
			return nil, errkind.Usagef("plan: the report has invariant %q that the rules do not", b.Invariant)
		}
		f := inv.Fixups[b.Kind]
		if f == nil {
			p.NoFixup = append(p.NoFixup, NoFixup{Invariant: b.Invariant, Kind: b.Kind, Key: b.Key})
			continue
		}
		a, err := makeAction(inv, f, b)
		if err != nil {
			return nil, errkind.Usagef("plan: %s: fixup %s at %s:%d: %w", inv.Name, b.Kind, rules.File, f.Line, err)
		}
		p.Actions = append(p.Actions, a)
	}
	h, err := p.computeHash()
	if err != nil {
		return nil, err
	}
	p.Hash = h
	return p, nil
}

func makeAction(inv *Invariant, f *Fixup, b *Break) (*Action, error) {
	r := resolver{inv: inv, b: b}
	a := &Action{Invariant: inv.Name, Kind: b.Kind, Key: b.Key, KeyValues: b.KeyValues,
		Observed: Observed{Left: b.LeftVersion, Right: b.RightVersion}}
	a.ID = idempotencyKey(inv.Name, b.Kind, b.KeyValues, a.Observed)
	var err error
	if a.Amount, err = r.amount(f); err != nil {
		return nil, err
	}
	switch {
	case f.SQL != nil:
		a.Type, a.On = "sql", f.SQL.Source
		a.Statement, a.Params, err = r.sqlTemplate(f.SQL.Statement)
	case f.Mongo != nil:
		a.Type, a.On, a.Collection, a.Upsert = "mongo", f.Mongo.Source, f.Mongo.Collection, f.Mongo.Upsert
		if a.Filter, err = extJSON(r, f.Mongo.Filter); err == nil {
			a.Update, err = extJSON(r, f.Mongo.Update)
		}
	case f.Event != nil:
		a.Type, a.EventType, a.On, a.OutboxTable, a.File = "event", f.Event.Type, f.Event.OutboxSource, f.Event.OutboxTable, f.Event.File
		a.Payload, err = extJSON(r, f.Event.Payload)
	}
	return a, err
}

func extJSON(r resolver, doc bson.D) (json.RawMessage, error) {
	v, err := r.docTemplate(doc)
	if err != nil {
		return nil, err
	}
	b, err := bson.MarshalExtJSON(v, false, false)
	return json.RawMessage(b), err
}

func idempotencyKey(inv, kind string, key []any, o Observed) string {
	k, _ := json.Marshal([]any{inv, kind, key, o.Left, o.Right})
	h := sha256.Sum256(k)
	return hex.EncodeToString(h[:16])
}

// computeHash hashes the canonical JSON of the plan without its hash.
func (p *Plan) computeHash() (string, error) {
	c := *p
	c.Hash = ""
	b, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	return canonicalHash(b)
}

// canonicalHash is sha256 over JSON re-encoded with sorted keys and no
// "hash" member at the top level.
func canonicalHash(data []byte) (string, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v map[string]any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	delete(v, "hash")
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// WriteTo writes the plan as indented JSON.
func (p *Plan) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return 0, err
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// ReadPlan reads a plan file and checks it against wantHash: the hash
// recomputed from the file's content must equal wantHash (a plan changed
// after it was made is refused with ErrPlanChanged, kind precondition).
func ReadPlan(r io.Reader, wantHash string) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	got, err := canonicalHash(data)
	if err != nil {
		return nil, errkind.Usagef("read plan: not a plan file: %v", err)
	}
	if wantHash == "" {
		return nil, errkind.Usagef("--plan-hash is required: apply only the plan you reviewed")
	}
	if got != wantHash {
		return nil, errkind.Preconditionf("%w: its content hashes to %s, not %s", ErrPlanChanged, got, wantHash)
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var p Plan
	if err := d.Decode(&p); err != nil {
		return nil, errkind.Usagef("read plan: %v", err)
	}
	if p.Hash != got {
		return nil, errkind.Preconditionf("%w: the hash field says %s, the content %s", ErrPlanChanged, p.Hash, got)
	}
	return &p, nil
}
