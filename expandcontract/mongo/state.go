package mongo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// StateDatabase is the database that holds tidemark's state on a server.
const StateDatabase = "tidemark"

// The state collections (one document per migration; one lock per database).
const (
	stateCollection = "ec_state"
	lockCollection  = "ec_locks"
)

// Phase is a migration's place in the expand/contract lifecycle.
type Phase string

// Phases: "expanding", "contracting" and "rolling_back" are in progress (a
// killed run left it there; running the same command again finishes it).
const (
	PhaseExpanding   Phase = "expanding"
	PhaseExpanded    Phase = "expanded"
	PhaseContracting Phase = "contracting"
	PhaseContracted  Phase = "contracted"
	PhaseRollingBack Phase = "rolling_back"
	PhaseRolledBack  Phase = "rolled_back"
)

// inFlight reports whether the migration still has both shapes live.
func (p Phase) inFlight() bool {
	return p == PhaseExpanding || p == PhaseExpanded || p == PhaseContracting || p == PhaseRollingBack
}

// Progress is one backfill action's convergence progress in one phase.
type Progress struct {
	Action     string        `bson:"action" json:"action"`
	Collection string        `bson:"collection" json:"collection"`
	Pass       int           `bson:"pass" json:"pass"`
	Cursor     bson.RawValue `bson:"cursor,omitempty" json:"-"`
	// Upper is the largest _id when the pass began: documents inserted
	// during a pass wait for the next one, so a pass always ends.
	Upper bson.RawValue `bson:"upper,omitempty" json:"-"`
	// UpperSet is true once Upper was read for the current pass.
	UpperSet bool `bson:"upper_set" json:"-"`
	// PassScanned/PassWritten/PassMissed count the current pass; a pass that
	// writes and misses nothing means the collection has converged.
	PassScanned int64 `bson:"pass_scanned" json:"pass_scanned"`
	PassWritten int64 `bson:"pass_written" json:"pass_written"`
	PassMissed  int64 `bson:"pass_missed" json:"pass_missed"`
	// Scanned/Written/Missed total every pass of the phase.
	Scanned   int64 `bson:"scanned" json:"scanned"`
	Written   int64 `bson:"written" json:"written"`
	Missed    int64 `bson:"missed" json:"missed"`
	Total     int64 `bson:"total" json:"total"`
	Converged bool  `bson:"converged" json:"converged"`
}

// validatorRecord is a collection's validator before the first change.
type validatorRecord struct {
	Collection string `bson:"collection"`
	// Original and Applied are canonical extended JSON: stored documents
	// cannot hold "$" keys on every server.
	Original string `bson:"original,omitempty"`
	Enforced bool   `bson:"enforced"`
	Applied  string `bson:"applied,omitempty"`
}

// migState is the state document of one migration in one database.
type migState struct {
	ID         string               `bson:"_id"`
	DB         string               `bson:"db"`
	Name       string               `bson:"name"`
	Seq        int64                `bson:"seq"`
	Migration  *Migration           `bson:"-"`
	File       string               `bson:"file"`
	Source     string               `bson:"source"`
	Phase      Phase                `bson:"phase"`
	Done       []string             `bson:"done"`
	Progress   map[string]*Progress `bson:"progress"`
	Validators []*validatorRecord   `bson:"validators"`
	Warnings   []string             `bson:"warnings"`
	StartedAt  time.Time            `bson:"started_at"`
	UpdatedAt  time.Time            `bson:"updated_at"`
	FinishedAt *time.Time           `bson:"finished_at,omitempty"`
}

func (s *migState) done(step string) bool {
	for _, d := range s.Done {
		if d == step {
			return true
		}
	}
	return false
}

func (s *migState) warn(msg string) {
	for _, w := range s.Warnings {
		if w == msg {
			return
		}
	}
	s.Warnings = append(s.Warnings, msg)
}

func (s *migState) validator(coll string) *validatorRecord {
	for _, v := range s.Validators {
		if v.Collection == coll {
			return v
		}
	}
	return nil
}

type store struct {
	client *mongo.Client
	db     string
}

func (st *store) states() *mongo.Collection {
	return st.client.Database(StateDatabase).Collection(stateCollection)
}

// list returns the database's migrations in start order.
func (st *store) list(ctx context.Context) ([]*migState, error) {
	cur, err := st.states().Find(ctx, bson.D{{Key: "db", Value: st.db}})
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var out []*migState
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	for _, s := range out {
		m, err := Parse(strings.NewReader(s.Source), s.File)
		if err != nil {
			return nil, fmt.Errorf("state of %s: stored migration: %w", s.Name, err)
		}
		s.Migration = m
	}
	return out, nil
}

func (st *store) save(ctx context.Context, s *migState) error {
	s.UpdatedAt = time.Now().UTC()
	_, err := st.states().ReplaceOne(ctx, bson.D{{Key: "_id", Value: s.ID}}, s, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save state of %s: %w", s.Name, err)
	}
	return nil
}

func (st *store) newState(m *Migration, seq int64) *migState {
	now := time.Now().UTC()
	return &migState{
		ID: st.db + "/" + m.Name, DB: st.db, Name: m.Name, Seq: seq, Migration: m, File: m.File, Source: string(m.source),
		Phase: PhaseExpanding, Progress: map[string]*Progress{}, StartedAt: now,
	}
}

// markDone records a finished step and saves.
func (st *store) markDone(ctx context.Context, s *migState, step string) error {
	if !s.done(step) {
		s.Done = append(s.Done, step)
	}
	return st.save(ctx, s)
}

func isCode(err error, codes ...int) bool {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		for _, c := range codes {
			if int(ce.Code) == c {
				return true
			}
		}
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			for _, c := range codes {
				if e.Code == c {
					return true
				}
			}
		}
	}
	return false
}

// Server error codes tidemark handles.
const (
	codeNamespaceNotFound = 26
	codeIndexNotFound     = 27
	codeNotImplemented    = 238
	codeDuplicateKey      = 11000
	codeCommandNotFound   = 59
)
