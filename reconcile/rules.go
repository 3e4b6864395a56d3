package reconcile

import (
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/tidemark/tidemark/internal/dburl"
)

// Rules is a parsed and validated rules file.
type Rules struct {
	File       string
	Hash       string // sha256 of the file bytes (identifies the rules in runs and plans)
	Sources    []*Source
	Invariants []*Invariant
	bySource   map[string]*Source
}

// Source returns the source named name, or nil.
func (r *Rules) Source(name string) *Source { return r.bySource[name] }

// KeyType is the type of one key column.
type KeyType string

// Key column types.
const (
	KeyInt       KeyType = "int"
	KeyText      KeyType = "text"
	KeyUUID      KeyType = "uuid"
	KeyTimestamp KeyType = "timestamp"
)

// KeyColumn is one column of a source's key.
type KeyColumn struct {
	Name string
	Type KeyType
}

// Source is a named, key-ordered read against one database.
type Source struct {
	Name     string
	Database string // URL, env-expanded (never print: use URL.String())
	URL      *dburl.URL
	Key      []KeyColumn
	Version  string // optional explicit version column
	Batch    int    // MongoDB cursor batch (default 5000); SQL sources stream each range
	Line     int

	SQL string // SQL SELECT (postgres, cockroach)

	Collection string // MongoDB collection
	Filter     bson.D // find filter
	Projection bson.D // find projection
	Pipeline   bson.A // aggregation pipeline (instead of find); must keep key order
}

// FieldType is how a compared field is normalised.
type FieldType string

// Field types.
const (
	FieldInt       FieldType = "int"
	FieldDecimal   FieldType = "decimal"
	FieldMoney     FieldType = "money"
	FieldText      FieldType = "text"
	FieldUUID      FieldType = "uuid"
	FieldTimestamp FieldType = "timestamp"
	FieldBool      FieldType = "bool"
)

// Field is one compared field of a match invariant (or the compared value of
// an aggregate).
type Field struct {
	Name          string
	Left          string // column on the left source
	Right         string // column on the right source
	Type          FieldType
	Scale         int           // decimal digits kept (decimal) or minor-unit digits (money, default 2)
	LeftUnit      string        // money: "minor" (default) or "major"
	RightUnit     string        // money
	Tolerance     float64       // numbers: allowed |left-right| (in the field's units: major for decimal, minor for money)
	TimeTol       time.Duration // timestamps: allowed |left-right|
	Precision     time.Duration // timestamps: truncation (default 1µs)
	TimeZone      *time.Location
	IgnoreCase    bool // text
	Trim          bool // text
	NullsDistinct bool // NULL and a missing field differ (default: equal)
}

// Kind of invariant.
type Kind string

// Invariant kinds.
const (
	KindMatch     Kind = "match"
	KindExists    Kind = "exists"
	KindNotExists Kind = "not_exists"
	KindAggregate Kind = "aggregate"
)

// Side is one side of an invariant: a source with an optional condition.
type Side struct {
	Source *Source
	Where  []Condition
	Field  string // aggregate left: the compared field
	Sum    string // aggregate right: summed column ("" with Count)
	Count  bool
}

// Condition keeps rows whose column equals one of Values (compared as text).
type Condition struct {
	Column string
	Values []string // "null" matches NULL or missing
}

// Invariant is one rule between two sources.
type Invariant struct {
	Name   string
	Kind   Kind
	Left   Side
	Right  Side
	Fields []*Field // match; aggregate has exactly one (the compared value)
	Fixups map[string]*Fixup
	Line   int
}

// Break kinds per invariant kind.
const (
	BreakMissingRight = "missing_right" // match: left row without right row
	BreakMissingLeft  = "missing_left"  // match, aggregate: right row(s) without left row
	BreakMismatch     = "mismatch"      // match, aggregate: values differ
	BreakDuplicate    = "duplicate"     // match: a key twice on one side
	BreakMissing      = "missing"       // exists: no right row
	BreakUnexpected   = "unexpected"    // not_exists: a right row exists
)

// BreakKinds returns the break kinds an invariant kind can report.
func BreakKinds(k Kind) []string {
	switch k {
	case KindMatch:
		return []string{BreakMissingRight, BreakMissingLeft, BreakMismatch, BreakDuplicate}
	case KindExists:
		return []string{BreakMissing}
	case KindNotExists:
		return []string{BreakUnexpected}
	default:
		return []string{BreakMissingLeft, BreakMismatch}
	}
}

// Fixup is what to do about one kind of break.
type Fixup struct {
	Kind       string // break kind
	Amount     string // template of the money amount the action moves, for --max-amount
	AmountUnit string // "minor" (default) or "major" (converted with scale 2)
	Line       int

	SQL   *SQLFixup
	Mongo *MongoFixup
	Event *EventFixup
}

// SQLFixup runs one statement template on a source's database.
type SQLFixup struct {
	Source    string // whose database the statement runs on
	Statement string // placeholders :key.col, :left.col, :right.col become bind parameters
}

// MongoFixup runs one updateOne on a source's database.
type MongoFixup struct {
	Source     string
	Collection string
	Filter     bson.D // template: string values ":key.x" etc. are replaced
	Update     bson.D // template
	Upsert     bool
}

// EventFixup writes one compensation event, to an outbox table or a JSON-lines file.
type EventFixup struct {
	Type         string
	Payload      bson.D // template
	OutboxSource string // source whose database holds the outbox table
	OutboxTable  string
	File         string
}
