package expandcontract

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// Cockroach is the CockroachDB dialect. It embeds [Postgres] and overrides
// what differs; most differences are applied to the finished plan (see
// cockroach_plan.go): schema changes are asynchronous jobs that tidemark
// waits for, indexes are built online without CONCURRENTLY, and servers
// without triggers (before v24.3) get the dual-write contract instead of sync
// triggers. Build it with [DetectCockroach] so Version is the server's.
type Cockroach struct {
	Postgres
	// Version is the server's version (see [DetectCockroach]). Its zero
	// value means "unknown": no triggers, the dual-write contract.
	Version CockroachVersion
	// URL, when set, is used for the run lock: a lease row in
	// tidemark.lock_leases (internal/lock), since advisory locks do nothing
	// on CockroachDB. Without it the PostgreSQL advisory lock is used.
	URL *dburl.URL
	// AsOf is the AS OF SYSTEM TIME expression of the backfill's batch
	// boundary reads (default follower_read_timestamp()). "-" disables AS OF
	// SYSTEM TIME (needed to run the backfill on PostgreSQL).
	AsOf string

	// noJobWaits leaves out the job waits (tests of the dialect-independent
	// parts on PostgreSQL, which has no SHOW JOBS).
	noJobWaits bool
}

var _ Dialect = Cockroach{}

// CockroachVersion is a CockroachDB server version.
type CockroachVersion struct {
	Major, Minor, Patch int
	Raw                 string // e.g. "CockroachDB CCL v24.3.1 (x86_64-pc-linux-gnu, ...)"
}

func (v CockroachVersion) String() string {
	if v.Major == 0 {
		return "unknown"
	}
	return fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
}

// AtLeast tells whether v >= major.minor.
func (v CockroachVersion) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// Triggers tells whether the server runs PL/pgSQL row triggers
// (CockroachDB v24.3 and later).
func (v CockroachVersion) Triggers() bool { return v.AtLeast(24, 3) }

// ErrNotCockroach means the server is not CockroachDB.
var ErrNotCockroach = errors.New("server is not CockroachDB")

var crdbVersionRE = regexp.MustCompile(`CockroachDB\b[^v]*v(\d+)\.(\d+)(?:\.(\d+))?`)

// ParseCockroachVersion reads the output of SELECT version() on CockroachDB.
func ParseCockroachVersion(s string) (CockroachVersion, error) {
	m := crdbVersionRE.FindStringSubmatch(s)
	if m == nil {
		return CockroachVersion{}, fmt.Errorf("%w: version() is %q", ErrNotCockroach, s)
	}
	v := CockroachVersion{Raw: s}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// DetectCockroach asks the server its version (SELECT version(); on
// CockroachDB "CockroachDB CCL v24.3.1 ...") and returns the dialect for
// it. It fails with ErrNotCockroach (exit 2) on another server.
func DetectCockroach(ctx context.Context, q querier) (Cockroach, error) {
	var s string
	if err := q.QueryRow(ctx, `SELECT version()`).Scan(&s); err != nil {
		return Cockroach{}, fmt.Errorf("detect server version: %w", err)
	}
	v, err := ParseCockroachVersion(s)
	if err != nil {
		return Cockroach{}, fmt.Errorf("%w: %w", errkind.ErrUsage, err)
	}
	return Cockroach{Version: v}, nil
}

// Triggers tells whether sync triggers are used (else the dual-write contract).
func (d Cockroach) Triggers() bool { return d.Version.Triggers() }

// CreateIndex renders CREATE INDEX IF NOT EXISTS without CONCURRENTLY:
// CockroachDB builds every index online, as a schema-change job, and a
// failed build is rolled back by the job (no INVALID leftover).
func (d Cockroach) CreateIndex(_ bool, s indexSQL) string {
	s.IfNotExist = true
	return d.Postgres.CreateIndex(false, s)
}

// DropIndex renders DROP INDEX IF EXISTS (online on CockroachDB).
func (d Cockroach) DropIndex(schema, name string) string {
	return "DROP INDEX IF EXISTS " + d.Table(schema, name)
}

// asOf is the AS OF SYSTEM TIME clause of boundary reads ("" when disabled).
func (d Cockroach) asOf() string {
	switch d.AsOf {
	case "-":
		return ""
	case "":
		return " AS OF SYSTEM TIME follower_read_timestamp()"
	}
	return " AS OF SYSTEM TIME " + d.AsOf
}

// stripQuotes turns "a" into a (for names quoted by Quote).
func stripQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// planFinisher is an optional Dialect capability: NewPlan hands it the
// planner once the plan is complete, to adapt the plan to the database
// ([Cockroach] adds job waits, the dual-write contract...).
type planFinisher interface{ finishPlan(p *Planner) error }

func finishPlan(d Dialect, p *Planner) (*Plan, error) {
	if f, ok := d.(planFinisher); ok {
		if err := f.finishPlan(p); err != nil {
			return nil, err
		}
	}
	return p.plan, nil
}
