package expandcontract

import (
	"regexp"
	"strings"
)

// OpSetReplicaIdentity sets a table's replica identity (restored on rollback).
type OpSetReplicaIdentity struct {
	Table, Type, Index string
	physTable          string
}

func parseSetReplicaIdentity(o *obj) (Operation, error) {
	if err := o.check("set_replica_identity", "table", "identity"); err != nil {
		return nil, err
	}
	op := &OpSetReplicaIdentity{}
	var err error
	if op.Table, err = o.need("table", "set_replica_identity"); err != nil {
		return nil, err
	}
	id, err := o.sub("identity")
	if err != nil || id == nil {
		return nil, errAt(o.file, o.node, "set_replica_identity: \"identity\" is required")
	}
	if err := id.check("identity", "type", "index", "Type", "Index"); err != nil {
		return nil, err
	}
	for _, k := range []string{"type", "Type"} {
		if s, _ := id.str(k); s != "" {
			op.Type = strings.ToLower(s)
		}
	}
	for _, k := range []string{"index", "Index"} {
		if s, _ := id.str(k); s != "" {
			op.Index = s
		}
	}
	switch op.Type {
	case "full", "default", "nothing":
	case "index":
		if op.Index == "" {
			return nil, errAt(id.file, id.node, "identity type index needs an index")
		}
	default:
		return nil, errAt(id.file, id.node, "identity type %q: want full, default, nothing or index", op.Type)
	}
	return op, nil
}

func (op *OpSetReplicaIdentity) Kind() string { return "set_replica_identity" }

func (op *OpSetReplicaIdentity) sql(p *Planner, typ, index string) string {
	s := "ALTER TABLE " + p.D.Table(p.Schema, op.physTable) + " REPLICA IDENTITY "
	if typ == "index" {
		return s + "USING INDEX " + p.D.Quote(index)
	}
	return s + strings.ToUpper(typ)
}

func (op *OpSetReplicaIdentity) Start(p *Planner) error {
	t, err := p.table(op.Table)
	if err != nil {
		return err
	}
	op.physTable = t.Physical
	p.Expand(Action{ID: "set", SQL: []string{op.sql(p, op.Type, op.Index)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

func (op *OpSetReplicaIdentity) Complete(*Planner) error { return nil }

func (op *OpSetReplicaIdentity) Rollback(p *Planner) error {
	st := p.snap.Tables[op.physTable]
	if st == nil {
		return nil
	}
	typ := map[string]string{"d": "default", "n": "nothing", "f": "full", "i": "index"}[st.ReplicaIdentity]
	p.Undo(Action{ID: "restore", SQL: []string{op.sql(p, typ, st.ReplicaIndex)}, Lock: "ACCESS EXCLUSIVE (brief)"})
	return nil
}

// OpRawSQL runs raw SQL: Up at expand (or at contract with onComplete),
// Down on rollback.
type OpRawSQL struct {
	Up, Down   string
	OnComplete bool
}

func parseRawSQL(o *obj) (Operation, error) {
	if err := o.check("sql", "up", "down", "onComplete"); err != nil {
		return nil, err
	}
	op := &OpRawSQL{}
	var err error
	if op.Up, err = o.need("up", "sql"); err != nil {
		return nil, err
	}
	if op.Down, err = o.str("down"); err != nil {
		return nil, err
	}
	op.OnComplete, err = o.boolv("onComplete")
	if op.OnComplete && op.Down != "" {
		return nil, errAt(o.file, o.node, "sql: down cannot be combined with onComplete")
	}
	return op, err
}

func (op *OpRawSQL) Kind() string { return "sql" }

var rewriteSQL = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(?is)\balter\s+table\b.*\b(type|set\s+data\s+type)\b`), "changes a column type (rewrites the table under ACCESS EXCLUSIVE)"},
	{regexp.MustCompile(`(?is)\bvacuum\s+full\b|\bcluster\b`), "rewrites the table under ACCESS EXCLUSIVE"},
	{regexp.MustCompile(`(?is)\badd\s+column\b.*\bdefault\s+.*(random|gen_random_uuid|clock_timestamp|nextval)\s*\(`), "adds a column with a volatile default (rewrites the table)"},
	{regexp.MustCompile(`(?is)\bset\s+not\s+null\b`), "SET NOT NULL scans the table under ACCESS EXCLUSIVE"},
	{regexp.MustCompile(`(?is)\badd\s+(constraint\s+\S+\s+)?(check|foreign\s+key)\b`), "adds a constraint that scans under lock (use NOT VALID)"},
	{regexp.MustCompile(`(?is)^\s*update\s+[^;]*$`), "updates rows in one statement (long row locks)"},
	{regexp.MustCompile(`(?is)\bcreate\s+(unique\s+)?index\s+(if\s+not\s+exists\s+)?(\S+)`), "builds an index without CONCURRENTLY (blocks writes)"},
}

func (op *OpRawSQL) Start(p *Planner) error {
	a := Action{ID: "up", SQL: []string{op.Up}, Lock: "unknown (raw sql)"}
	for _, r := range rewriteSQL {
		m := r.re.FindStringSubmatch(op.Up)
		if m == nil || strings.Contains(strings.ToLower(op.Up), "not valid") && strings.Contains(r.what, "NOT VALID") ||
			strings.Contains(r.what, "CONCURRENTLY") && strings.EqualFold(m[len(m)-1], "concurrently") {
			continue
		}
		a.Warning = "raw sql " + r.what
		a.Rewrites = strings.Contains(r.what, "rewrite")
		a.Scans = true
		p.Warn("raw sql %s: unsafe while two versions run", r.what)
		break
	}
	if !op.OnComplete {
		p.Expand(a)
	}
	return nil
}

func (op *OpRawSQL) Complete(p *Planner) error {
	if op.OnComplete {
		p.Late(Action{ID: "up", SQL: []string{op.Up}, Lock: "unknown (raw sql)"})
	}
	return nil
}

func (op *OpRawSQL) Rollback(p *Planner) error {
	if op.Down != "" && !op.OnComplete {
		p.Undo(Action{ID: "down", SQL: []string{op.Down}, Lock: "unknown (raw sql)"})
	}
	return nil
}
