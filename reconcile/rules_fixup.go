package reconcile

import (
	"fmt"
	"regexp"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/dburl"
)

// placeholderRE finds :key.col, :left.col and :right.col (not PostgreSQL's ::cast).
var placeholderRE = regexp.MustCompile(`(^|[^:\w]):(key|left|right)\.([A-Za-z_][A-Za-z0-9_]*)`)

func (p *parser) parseFixups(n *yaml.Node, inv *Invariant, rules *Rules, what string) map[string]*Fixup {
	out := map[string]*Fixup{}
	kinds := BreakKinds(inv.Kind)
	m := p.mapping(n, what+": fixups", kinds...)
	for _, kind := range sortedKeys(m) {
		fn := m[kind]
		fw := fmt.Sprintf("%s: fixup %s", what, kind)
		fm := p.mapping(fn, fw, "sql", "mongo", "event", "amount", "amount_unit")
		f := &Fixup{Kind: kind, Line: fn.Line, Amount: p.str(fm["amount"], fw+": amount"), AmountUnit: p.unit(fm["amount_unit"], fw)}
		count := 0
		if s := fm["sql"]; s != nil {
			count++
			f.SQL = p.parseSQLFixup(s, rules, fw)
		}
		if s := fm["mongo"]; s != nil {
			count++
			f.Mongo = p.parseMongoFixup(s, rules, fw)
		}
		if s := fm["event"]; s != nil {
			count++
			f.Event = p.parseEventFixup(s, rules, fw)
		}
		if count != 1 {
			p.errf(fn, "%s: want exactly one of sql, mongo or event", fw)
		}
		out[kind] = f
	}
	return out
}

func (p *parser) fixupSource(n *yaml.Node, rules *Rules, what string, mongo bool) string {
	name := p.str(n, what+": on")
	s := rules.Source(name)
	switch {
	case n == nil:
	case s == nil:
		p.errf(n, "%s: on: unknown source %q (the fix-up runs on that source's database)", what, name)
	case s.URL != nil && (s.URL.Engine == dburl.Mongo) != mongo:
		p.errf(n, "%s: on: source %q is on %s", what, name, s.URL.Engine)
	}
	return name
}

func (p *parser) parseSQLFixup(n *yaml.Node, rules *Rules, what string) *SQLFixup {
	m := p.mapping(n, what+": sql", "on", "statement")
	return &SQLFixup{
		Source:    p.fixupSource(p.required(m, n, what+": sql", "on"), rules, what, false),
		Statement: p.str(p.required(m, n, what+": sql", "statement"), what+": statement"),
	}
}

func (p *parser) parseMongoFixup(n *yaml.Node, rules *Rules, what string) *MongoFixup {
	m := p.mapping(n, what+": mongo", "on", "collection", "filter", "update", "upsert")
	f := &MongoFixup{
		Source:     p.fixupSource(p.required(m, n, what+": mongo", "on"), rules, what, true),
		Collection: p.str(m["collection"], what+": collection"),
		Filter:     p.bsonDoc(p.required(m, n, what+": mongo", "filter"), what+": filter"),
		Update:     p.bsonDoc(p.required(m, n, what+": mongo", "update"), what+": update"),
	}
	if u := m["upsert"]; u != nil {
		f.Upsert = p.boolean(u, what+": upsert")
	}
	if s := rules.Source(f.Source); f.Collection == "" && s != nil {
		f.Collection = s.Collection
	}
	return f
}

func (p *parser) parseEventFixup(n *yaml.Node, rules *Rules, what string) *EventFixup {
	m := p.mapping(n, what+": event", "type", "payload", "outbox", "file")
	e := &EventFixup{
		Type:    p.str(p.required(m, n, what+": event", "type"), what+": type"),
		Payload: p.bsonDoc(p.required(m, n, what+": event", "payload"), what+": payload"),
		File:    p.str(m["file"], what+": file"),
	}
	if o := m["outbox"]; o != nil {
		om := p.mapping(o, what+": outbox", "on", "table")
		e.OutboxSource = p.fixupSource(p.required(om, o, what+": outbox", "on"), rules, what, false)
		e.OutboxTable = p.str(p.required(om, o, what+": outbox", "table"), what+": table")
	}
	if (e.File == "") == (e.OutboxTable == "") {
		p.errf(n, "%s: event: want exactly one of outbox: {on, table} or file", what)
	}
	return e
}
