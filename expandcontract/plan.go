package expandcontract

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Plan is every action of one version's lifecycle.
type Plan struct {
	Schema        string   `json:"schema"`
	OldSchema     string   `json:"old_schema"`
	VersionSchema string   `json:"version_schema"`
	Expand        []Action `json:"expand"`
	Contract      []Action `json:"contract"`
	Rollback      []Action `json:"rollback"`
	Warnings      []string `json:"warnings,omitempty"`
	// Verify lists the checks new = up(old) for `--verify` and contract.
	Verify []VerifyCheck `json:"verify,omitempty"`
}

// VerifyCheck compares a new column with up(old) on every row.
type VerifyCheck struct {
	Table  string   `json:"table"`
	Column string   `json:"column"` // physical new column
	Up     string   `json:"up"`
	Key    []string `json:"key"`
}

// Operation is one pgroll operation. Start changes the new version's shape
// and adds expand actions; Complete adds contract actions; Rollback adds the
// actions that undo Start. All three only plan: they never touch a database.
type Operation interface {
	Kind() string
	Start(p *Planner) error
	Complete(p *Planner) error
	Rollback(p *Planner) error
}

type colModel struct{ Name, Physical string }

type tableModel struct {
	Name     string
	Physical string
	Cols     []colModel
	Created  bool
}

func (t *tableModel) colByPhysical(phys string) *colModel {
	for i := range t.Cols {
		if t.Cols[i].Physical == phys {
			return &t.Cols[i]
		}
	}
	return nil
}

func (t *tableModel) col(name string) *colModel {
	for i := range t.Cols {
		if t.Cols[i].Name == name {
			return &t.Cols[i]
		}
	}
	return nil
}

type syncRule struct {
	Target  string // physical column written
	Expr    string
	FromNew bool // true: computed on new-version writes (down)
}

// Planner turns migrations into a Plan. Operations call its methods.
type Planner struct {
	D      Dialect
	Schema string
	snap   *Snapshot
	plan   *Plan
	tables []*tableModel
	id     string // current operation's ID prefix
	sync   map[string][]syncRule
	syncT  []string
	// contract buckets, assembled in this order
	validate  []Action
	swap      map[string][]string
	swapT     []string
	late      []Action
	afterSync []Action
	undoFirst []Action
	renames   []Action
	rollback  []Action
	changed   map[string]bool
	// key columns (keys.go)
	dupPlanned map[string]bool              // "table.column" explicit alter_column duplicates
	dupNew     map[string]string            // "table.old" -> new physical column
	keyNew     map[string]map[string]string // table -> old key column -> new column
	keyT       []string
	refTargets []refTarget
	badRefs    map[*RefDef]bool    // new columns' references left out with a warning (newcolumn.go)
	swapTail   map[string][]string // run at the end of the table's swap transaction
	swapAlso   map[string][]string // other tables that transaction alters
	joined     map[string]string   // tables whose swaps are one transaction
}

// NewPlan plans migrations (one version) against a snapshot.
func NewPlan(d Dialect, snap *Snapshot, oldSchema string, migs []*Migration) (*Plan, error) {
	if len(migs) == 0 {
		return nil, errkind.Usagef("no migrations")
	}
	last := migs[len(migs)-1]
	vname := last.Name
	if last.VersionSchema != "" {
		vname = last.VersionSchema
	}
	vs := ident63(snap.Schema + "_" + vname)
	p := &Planner{D: d, Schema: snap.Schema, snap: snap, sync: map[string][]syncRule{},
		swap: map[string][]string{}, changed: map[string]bool{},
		dupPlanned: plannedDuplicates(migs), dupNew: map[string]string{}, keyNew: map[string]map[string]string{},
		swapTail: map[string][]string{}, swapAlso: map[string][]string{}, joined: map[string]string{},
		plan: &Plan{Schema: snap.Schema, OldSchema: oldSchema, VersionSchema: vs}}
	p.initModel()
	var ops []Operation
	var ids []string
	for _, m := range migs {
		for i, op := range m.Operations {
			p.id = fmt.Sprintf("%s/%d/%s", m.Name, i+1, op.Kind())
			if err := op.Start(p); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", m.File, p.id, err)
			}
			ops, ids = append(ops, op), append(ids, p.id)
		}
	}
	if err := p.startKeys(); err != nil {
		return nil, err
	}
	p.addSync()
	p.plan.Expand = append(p.plan.Expand, p.afterSync...)
	p.addViews()
	p.plan.Expand = append(p.plan.Expand, p.backfills()...)
	if oldSchema != snap.Schema {
		p.plan.Contract = append(p.plan.Contract, Action{ID: "old-version/drop",
			SQL: []string{"DROP SCHEMA IF EXISTS " + d.Quote(oldSchema) + " CASCADE"}, Lock: "ACCESS EXCLUSIVE (views only)"})
	}
	for i, op := range ops {
		p.id = ids[i]
		if err := op.Complete(p); err != nil {
			return nil, fmt.Errorf("%s: %w", ids[i], err)
		}
	}
	p.completeKeys()
	p.assembleContract()
	var undo []Action
	for i := len(ops) - 1; i >= 0; i-- {
		p.id = ids[i]
		p.rollback = nil
		if err := ops[i].Rollback(p); err != nil {
			return nil, fmt.Errorf("%s: %w", ids[i], err)
		}
		undo = append(undo, p.rollback...)
	}
	p.rollbackKeys()
	p.plan.Rollback = append(p.plan.Rollback, Action{ID: "version/drop",
		SQL: []string{"DROP SCHEMA IF EXISTS " + d.Quote(vs) + " CASCADE"}, Lock: "none (views only)"})
	p.plan.Rollback = append(p.plan.Rollback, p.undoFirst...)
	for _, t := range p.syncT {
		p.plan.Rollback = append(p.plan.Rollback, Action{ID: "sync/" + t + "/drop", SQL: p.dropSync(t), Lock: "ACCESS EXCLUSIVE (brief)"})
	}
	p.plan.Rollback = append(p.plan.Rollback, undo...)
	return finishPlan(d, p)
}

func (p *Planner) initModel() {
	names := make([]string, 0, len(p.snap.Tables))
	for n := range p.snap.Tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t := p.snap.Tables[n]
		tm := &tableModel{Name: n, Physical: n}
		for _, c := range t.Columns {
			if !strings.HasPrefix(c.Name, "_tm_") {
				tm.Cols = append(tm.Cols, colModel{c.Name, c.Name})
			}
		}
		p.tables = append(p.tables, tm)
	}
}

// table returns the new version's table called name.
func (p *Planner) table(name string) (*tableModel, error) {
	for _, t := range p.tables {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, errkind.Usagef("table %q does not exist", name)
}

func (p *Planner) column(table, col string) (*tableModel, *colModel, error) {
	t, err := p.table(table)
	if err != nil {
		return nil, nil, err
	}
	c := t.col(col)
	if c == nil {
		return nil, nil, errkind.Usagef("column %q does not exist in table %q", col, table)
	}
	return t, c, nil
}

// oldColumn is the snapshot column behind a physical column (nil if new).
func (p *Planner) oldColumn(physTable, physCol string) *Column {
	if t := p.snap.Tables[physTable]; t != nil {
		return t.column(physCol)
	}
	return nil
}

// markChanged refuses a second structural change of one column in a version.
func (p *Planner) markChanged(t *tableModel, physCol string) error {
	k := t.Physical + "." + physCol
	if p.changed[k] || strings.HasPrefix(physCol, "_tm_") {
		return errkind.Usagef("column %q of %q is changed twice in one version: split it into two deploys", physCol, t.Name)
	}
	p.changed[k] = true
	return nil
}

// Expand adds an expand action (its ID is prefixed by the operation's).
func (p *Planner) Expand(a Action) {
	a.ID = p.id + "/" + a.ID
	p.plan.Expand = append(p.plan.Expand, a)
}

// AfterSync adds an expand action run once the sync triggers exist
// (constraints and indexes on new columns: before the triggers fill them,
// old-version writes would violate them).
func (p *Planner) AfterSync(a Action) { a.ID = p.id + "/" + a.ID; p.afterSync = append(p.afterSync, a) }

// Validate adds a contract action run before any table is swapped.
func (p *Planner) Validate(a Action) { a.ID = p.id + "/" + a.ID; p.validate = append(p.validate, a) }

// Swap adds statements to the table's contract transaction, which also drops
// its sync trigger, so no write ever sees a half-swapped table.
func (p *Planner) Swap(physTable string, stmts ...string) {
	if _, ok := p.swap[physTable]; !ok {
		p.swapT = append(p.swapT, physTable)
	}
	p.swap[physTable] = append(p.swap[physTable], stmts...)
}

// Late adds a contract action run after the swaps (drops, onComplete sql).
func (p *Planner) Late(a Action) { a.ID = p.id + "/" + a.ID; p.late = append(p.late, a) }

// RenameLast adds a contract action run at the very end (table renames).
func (p *Planner) RenameLast(a Action) { a.ID = p.id + "/" + a.ID; p.renames = append(p.renames, a) }

// Undo adds a rollback action for the current operation.
func (p *Planner) Undo(a Action) { a.ID = p.id + "/" + a.ID; p.rollback = append(p.rollback, a) }

// UndoFirst adds a rollback action run before the sync triggers are
// dropped (constraints on new columns, which old-version writes would
// violate once nothing fills those columns).
func (p *Planner) UndoFirst(a Action) { a.ID = p.id + "/" + a.ID; p.undoFirst = append(p.undoFirst, a) }

// Warn adds a plan warning.
func (p *Planner) Warn(format string, args ...any) {
	p.plan.Warnings = append(p.plan.Warnings, p.id+": "+fmt.Sprintf(format, args...))
}

// SyncUp makes old-version writes compute target (a new column) from up.
func (p *Planner) SyncUp(t *tableModel, target, up string) {
	p.addRule(t.Physical, syncRule{Target: target, Expr: up})
}

// VerifyUp asks verify to check target = up(old) on every row (for columns
// both versions keep in sync; a column added by add_column is the new
// version's to write, so it is not checked).
func (p *Planner) VerifyUp(t *tableModel, target, up string) {
	p.plan.Verify = append(p.plan.Verify, VerifyCheck{Table: t.Physical, Column: target, Up: up, Key: p.keyOf(t.Physical)})
}

// SyncDown makes new-version writes compute target (an old column) from down.
func (p *Planner) SyncDown(t *tableModel, target, down string) {
	p.addRule(t.Physical, syncRule{Target: target, Expr: down, FromNew: true})
}

func (p *Planner) addRule(table string, r syncRule) {
	if _, ok := p.sync[table]; !ok {
		p.syncT = append(p.syncT, table)
	}
	p.sync[table] = append(p.sync[table], r)
}

func (p *Planner) keyOf(physTable string) []string {
	if t := p.snap.Tables[physTable]; t != nil && len(t.PK) > 0 {
		return t.PK
	}
	return []string{"ctid"}
}

func (p *Planner) assembleContract() {
	c := append(p.plan.Contract, p.validate...)
	for _, t := range p.syncT {
		if !slices.Contains(p.swapT, t) {
			p.swapT = append(p.swapT, t)
		}
	}
	var order []string
	members := map[string][]string{}
	for _, t := range p.swapT {
		r := p.find(t)
		if _, ok := members[r]; !ok {
			order = append(order, r)
		}
		members[r] = append(members[r], t)
	}
	for _, r := range order {
		c = append(c, p.swapAction(members[r]))
	}
	c = append(c, p.late...)
	p.plan.Contract = append(c, p.renames...)
}

// swapAction is one transaction swapping the tables' columns (several
// tables when foreign keys move between them: keys.go).
func (p *Planner) swapAction(tables []string) Action {
	var stmts []string
	locked := slices.Clone(tables)
	for _, t := range tables {
		stmts = append(append(stmts, p.dropSync(t)...), p.swap[t]...)
	}
	for _, t := range tables {
		stmts = append(stmts, p.swapTail[t]...)
		for _, o := range p.swapAlso[t] {
			if !slices.Contains(locked, o) {
				locked = append(locked, o)
			}
		}
	}
	lock := "ACCESS EXCLUSIVE (brief, catalog only)"
	if len(locked) > 1 {
		locked = p.childrenFirst(locked)
		lock = "ACCESS EXCLUSIVE on " + strings.Join(locked, ", ") + " (brief, catalog only)"
		quoted := make([]string, len(locked))
		for i, t := range locked {
			quoted[i] = p.D.Table(p.Schema, t)
		}
		stmts = append([]string{"LOCK TABLE " + strings.Join(quoted, ", ") + " IN ACCESS EXCLUSIVE MODE"}, stmts...)
	}
	return Action{ID: "swap/" + tables[0], SQL: stmts, Lock: lock}
}

// childrenFirst orders tables so that a table comes before the tables its
// foreign keys reference. Writers lock in that order (an INSERT into the
// child locks the child, then its foreign key check the parent), so a swap
// that locked the parent first and then waited for the child would
// deadlock with them; taking the locks in their order only queues.
func (p *Planner) childrenFirst(tables []string) []string {
	refs := func(a, b string) bool { // a references b
		if t := p.snap.Tables[a]; t != nil && a != b {
			for _, c := range t.Constraints {
				if c.Type == "f" && c.RefTable == b {
					return true
				}
			}
		}
		return false
	}
	var out []string
	left := slices.Clone(tables)
	for len(left) > 0 {
		i := slices.IndexFunc(left, func(t string) bool {
			return !slices.ContainsFunc(left, func(o string) bool { return refs(o, t) })
		})
		if i < 0 { // a cycle: keep the given order
			return append(out, left...)
		}
		out = append(out, left[i])
		left = slices.Delete(left, i, i+1)
	}
	return out
}
