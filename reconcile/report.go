package reconcile

import (
	"fmt"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Report is the result of Check.
type Report struct {
	RunID      string            `json:"run_id,omitempty"`
	Rules      string            `json:"rules"`
	RulesHash  string            `json:"rules_hash"`
	StartedAt  time.Time         `json:"started_at"`
	FinishedAt time.Time         `json:"finished_at"`
	Duration   float64           `json:"duration_seconds"`
	Grace      float64           `json:"grace_seconds"`
	Resumed    bool              `json:"resumed,omitempty"`
	Snapshots  map[string]string `json:"snapshots"` // source -> how it was read
	Counts     []*Counts         `json:"invariants"`
	Breaks     []*Break          `json:"breaks"`
	InFlight   []*Break          `json:"in_flight"`
}

// Counts is the tally of one invariant.
type Counts struct {
	Invariant     string `json:"invariant"`
	Kind          Kind   `json:"kind"`
	LeftRows      int64  `json:"left_rows"`
	RightRows     int64  `json:"right_rows"`
	Ranges        int    `json:"ranges"`
	RangesSkipped int    `json:"ranges_equal_by_checksum"`
	RangesResumed int    `json:"ranges_resumed,omitempty"`
	// Checksums is where the range checksums were computed: "sql" (both
	// sides in their databases), "left-sql,right-go", "left-go,right-sql",
	// or "off" (every range streamed).
	Checksums   string         `json:"checksums"`
	Breaks      map[string]int `json:"breaks"`
	BreaksTotal int            `json:"breaks_total"`
	InFlight    int            `json:"in_flight"`
}

// Break is one broken invariant for one key (or, in Report.InFlight, a
// difference whose rows changed during the run).
type Break struct {
	Invariant    string         `json:"invariant"`
	Kind         string         `json:"kind"`
	Key          string         `json:"key"`
	KeyValues    []any          `json:"key_values"`
	KeyColumns   []string       `json:"key_columns"`
	Left         map[string]any `json:"left,omitempty"`
	Right        map[string]any `json:"right,omitempty"`
	LeftRows     int            `json:"left_rows"`
	RightRows    int            `json:"right_rows"`
	Aggregate    any            `json:"aggregate,omitempty"`
	Diffs        []FieldDiff    `json:"diffs,omitempty"`
	LeftVersion  string         `json:"left_version"`
	RightVersion string         `json:"right_version"`
	Reason       string         `json:"reason,omitempty"`
}

// Broken tells whether any invariant is broken.
func (r *Report) Broken() bool { return len(r.Breaks) > 0 }

// Err returns an error of kind errkind.ErrProblemsFound (and ErrBroken)
// when the report has breaks, else nil.
func (r *Report) Err() error {
	if !r.Broken() {
		return nil
	}
	return errkind.Problemsf("%w: %d break(s) in %d invariant(s)", ErrBroken, len(r.Breaks), r.brokenInvariants())
}

func (r *Report) brokenInvariants() int {
	n := 0
	for _, c := range r.Counts {
		if c.BreaksTotal > 0 {
			n++
		}
	}
	return n
}

// RowsCompared is the total of rows read on both sides of every invariant.
func (r *Report) RowsCompared() int64 {
	var n int64
	for _, c := range r.Counts {
		n += c.LeftRows + c.RightRows
	}
	return n
}

// makeBreak builds the reported form of a finding.
func makeBreak(inv *Invariant, kind string, key []any, f *finding) *Break {
	b := &Break{Invariant: inv.Name, Kind: kind, KeyValues: key, Key: keyString(key)}
	for _, k := range inv.Left.Source.Key {
		b.KeyColumns = append(b.KeyColumns, k.Name)
	}
	if f == nil {
		return b
	}
	b.Diffs = f.diffs
	if f.left != nil {
		b.Left, b.LeftRows, b.LeftVersion = rowMap(f.left.rows[0]), f.left.n, f.left.version(&inv.Left)
	}
	if f.right != nil {
		b.RightRows, b.RightVersion = f.right.n, f.right.version(&inv.Right)
		if inv.Kind == KindAggregate {
			b.Aggregate = f.right.sum.FloatString(2)
			if f.right.sum.IsInt() {
				b.Aggregate = f.right.sum.Num().Int64()
			}
		} else {
			b.Right = rowMap(f.right.rows[0])
		}
	}
	return b
}

func rowMap(r *Row) map[string]any {
	m := make(map[string]any, len(r.Names))
	for i, n := range r.Names {
		m[n] = r.Vals[i]
	}
	return m
}

func (c *Counts) String() string {
	return fmt.Sprintf("%s (%s): %d left rows, %d right rows, %d breaks, %d in flight", c.Invariant, c.Kind, c.LeftRows, c.RightRows, c.BreaksTotal, c.InFlight)
}
