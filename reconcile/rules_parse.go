package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
)

// ParseRules reads and validates a rules file. ${NAME} in any value is
// replaced by the environment variable NAME (an unset one is an error).
// Errors are of kind errkind.ErrUsage and ErrRules, one "file:line: message"
// per problem.
func ParseRules(r io.Reader, filename string) (*Rules, error) {
	return ParseRulesEnv(r, filename, os.LookupEnv)
}

// ParseRulesEnv is ParseRules with its own environment lookup.
func ParseRulesEnv(r io.Reader, filename string, lookup func(string) (string, bool)) (*Rules, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	sum := sha256.Sum256(data)
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errkind.Usagef("%w: %s: %v", ErrRules, filename, err)
	}
	p := &parser{file: filename, lookup: lookup}
	rules := &Rules{File: filename, Hash: hex.EncodeToString(sum[:]), bySource: map[string]*Source{}}
	if len(doc.Content) == 0 {
		p.errf(&doc, "empty rules file: want sources and invariants")
	} else {
		p.parseTop(doc.Content[0], rules)
	}
	if err := p.err(); err != nil {
		return nil, errkind.Usagef("%w:\n%w", ErrRules, err)
	}
	return rules, nil
}

func (p *parser) parseTop(n *yaml.Node, rules *Rules) {
	top := p.mapping(n, "rules", "version", "sources", "invariants")
	if v := top["version"]; v != nil && p.str(v, "version") != "1" {
		p.errf(v, "version: only version 1 is known")
	}
	srcs := p.required(top, n, "rules", "sources")
	for _, name := range orderedKeys(srcs) {
		s := p.parseSource(name.Value, name, srcs)
		if s != nil {
			rules.Sources = append(rules.Sources, s)
			rules.bySource[s.Name] = s
		}
	}
	invs := p.required(top, n, "rules", "invariants")
	if invs != nil && invs.Kind != yaml.SequenceNode {
		p.errf(invs, "invariants: want a list")
		return
	}
	seen := map[string]bool{}
	for _, in := range contentOf(invs) {
		inv := p.parseInvariant(in, rules)
		if inv == nil {
			continue
		}
		if seen[inv.Name] {
			p.errf(in, "invariant %q: duplicate name", inv.Name)
		}
		seen[inv.Name] = true
		rules.Invariants = append(rules.Invariants, inv)
	}
	if len(rules.Invariants) == 0 && len(p.errs) == 0 {
		p.errf(n, "no invariants")
	}
}

func contentOf(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	return n.Content
}

// orderedKeys returns the key nodes of a mapping in file order.
func orderedKeys(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		out = append(out, n.Content[i])
	}
	return out
}

func valueOf(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (p *parser) parseSource(name string, keyNode, parent *yaml.Node) *Source {
	n := valueOf(parent, name)
	what := fmt.Sprintf("source %q", name)
	m := p.mapping(n, what, "database", "sql", "collection", "filter", "projection", "pipeline", "key", "version", "batch")
	s := &Source{Name: name, Line: keyNode.Line, Batch: 5000}
	if !identRE.MatchString(name) {
		p.errf(keyNode, "%s: a name is letters, digits and _", what)
	}
	s.Database = p.str(p.required(m, n, what, "database"), what+": database")
	if s.Database != "" {
		u, err := dburl.Parse(s.Database, "")
		if err != nil {
			p.errf(m["database"], "%s: database: %s", what, dburl.Redact(err.Error()))
		}
		s.URL = u
	}
	s.SQL = strings.TrimSpace(p.str(m["sql"], what+": sql"))
	s.Collection = p.str(m["collection"], what+": collection")
	s.Filter = p.bsonDoc(m["filter"], what+": filter")
	s.Projection = p.bsonDoc(m["projection"], what+": projection")
	if pl := m["pipeline"]; pl != nil {
		if a, ok := p.bsonValue(pl, what+": pipeline").(bson.A); ok {
			s.Pipeline = a
		} else {
			p.errf(pl, "%s: pipeline: want a list of stages", what)
		}
	}
	s.Version = p.str(m["version"], what+": version")
	if b := m["batch"]; b != nil {
		if s.Batch = p.integer(b, what+": batch"); s.Batch < 1 {
			p.errf(b, "%s: batch must be at least 1", what)
		}
	}
	s.Key = p.parseKey(p.required(m, n, what, "key"), what)
	p.checkSourceKind(s, n, m, what)
	return s
}

func (p *parser) checkSourceKind(s *Source, n *yaml.Node, m map[string]*yaml.Node, what string) {
	if s.URL == nil {
		return
	}
	if s.URL.Engine == dburl.Mongo {
		if s.SQL != "" {
			p.errf(m["sql"], "%s: a MongoDB source takes collection with filter/projection or pipeline, not sql", what)
		}
		if s.Collection == "" {
			p.errf(n, "%s: collection is required for a MongoDB source", what)
		}
		if s.Pipeline != nil && (s.Filter != nil || s.Projection != nil) {
			p.errf(m["pipeline"], "%s: use either pipeline or filter/projection", what)
		}
		return
	}
	if s.SQL == "" {
		p.errf(n, "%s: sql is required for a %s source", what, s.URL.Engine)
	} else if f := strings.ToLower(strings.Fields(s.SQL)[0]); f != "select" && f != "with" {
		p.errf(m["sql"], "%s: sql must be a SELECT", what)
	}
	for _, k := range []string{"collection", "filter", "projection", "pipeline"} {
		if m[k] != nil {
			p.errf(m[k], "%s: %s applies to MongoDB sources only", what, k)
		}
	}
}

func (p *parser) parseKey(n *yaml.Node, what string) []KeyColumn {
	var out []KeyColumn
	for _, s := range p.list(n, what+": key") {
		name, typ, ok := strings.Cut(s, ":")
		col := KeyColumn{Name: strings.TrimSpace(name), Type: KeyType(strings.TrimSpace(typ))}
		switch {
		case !ok:
			p.errf(n, "%s: key %q: give the type as name:type (int, text, uuid or timestamp)", what, s)
		case col.Type != KeyInt && col.Type != KeyText && col.Type != KeyUUID && col.Type != KeyTimestamp:
			p.errf(n, "%s: key %q: unknown type %q (want int, text, uuid or timestamp)", what, s, typ)
		}
		out = append(out, col)
	}
	if n != nil && len(out) == 0 {
		p.errf(n, "%s: key: want at least one column", what)
	}
	return out
}
