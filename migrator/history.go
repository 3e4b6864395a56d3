package migrator

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Directions of a step.
const (
	DirUp   = "up"
	DirDown = "down"
)

// Results of an attempt in the history.
const (
	ResultRunning     = "running"
	ResultSucceeded   = "succeeded"
	ResultFailed      = "failed"
	ResultInterrupted = "interrupted" // the run died (killed, connection lost)
)

// Applied is a version currently applied.
type Applied struct {
	Version   uint64    `json:"version"`
	Name      string    `json:"name"`
	Checksum  string    `json:"checksum"`
	AppliedAt time.Time `json:"applied_at"`
}

// Attempt is one row of the migration history: one run of one file.
type Attempt struct {
	ID              int64      `json:"id"`
	Version         uint64     `json:"version"`
	Name            string     `json:"name"`
	Direction       string     `json:"direction"`
	File            string     `json:"file"`
	Checksum        string     `json:"checksum"`
	StartedAt       time.Time  `json:"started_at"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
	DurationMS      int64      `json:"duration_ms"`
	Host            string     `json:"host"`
	User            string     `json:"user"`
	Result          string     `json:"result"`
	Error           string     `json:"error,omitempty"`
	FailedStatement string     `json:"failed_statement,omitempty"`
	FailedLine      int        `json:"failed_line,omitempty"`
	FailedIndex     int        `json:"failed_index,omitempty"`
	StatementsDone  int        `json:"statements_done"`
	StatementsTotal int        `json:"statements_total"`
	ResumedFrom     int        `json:"resumed_from,omitempty"`
	Transactional   bool       `json:"transactional"`
	DoneChecksum    string     `json:"-"`
}

// job is one step to apply.
type job struct {
	mig    *Migration
	dir    string
	script *Script
	resume int // statements already applied by an earlier attempt
	host   string
}

// prefixChecksum identifies the first n statements of a script, so a resumed
// run can tell whether the statements already applied were edited since.
func prefixChecksum(stmts []Statement, n int) string {
	h := sha256.New()
	for _, s := range stmts[:n] {
		h.Write([]byte(s.SQL))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// failure fills the failure fields of a from err.
func (a *Attempt) failure(err error) {
	a.Result = ResultFailed
	a.Error = err.Error()
	if se, ok := err.(*StatementError); ok {
		a.FailedStatement, a.FailedLine, a.FailedIndex = se.Statement, se.Line, se.Index
		a.Error = se.Err.Error()
	}
}
