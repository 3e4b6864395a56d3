package reconcile

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"gopkg.in/yaml.v3"
)

// parser walks yaml.v3 nodes, collecting errors with file:line.
type parser struct {
	file   string
	lookup func(string) (string, bool)
	errs   []error
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, line, fmt.Sprintf(format, args...)))
}

func (p *parser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return errors.Join(p.errs...)
}

// mapping returns the keys of a mapping node; unknown keys are errors.
func (p *parser) mapping(n *yaml.Node, what string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.errf(n, "%s: want a mapping", what)
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			p.errf(k, "%s: unknown key %q (want one of %s)", what, k.Value, strings.Join(allowed, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errf(k, "%s: duplicate key %q", what, k.Value)
		}
		out[k.Value] = v
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var envRE = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// str returns a scalar's value with ${NAME} expanded from the environment.
func (p *parser) str(n *yaml.Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errf(n, "%s: want a string", what)
		return ""
	}
	return p.expand(n, n.Value, what)
}

func (p *parser) expand(n *yaml.Node, s, what string) string {
	return envRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := p.lookup(name)
		if !ok {
			p.errf(n, "%s: environment variable %s is not set", what, name)
		}
		return v
	})
}

func (p *parser) required(m map[string]*yaml.Node, parent *yaml.Node, what, key string) *yaml.Node {
	n := m[key]
	if n == nil {
		p.errf(parent, "%s: %q is required", what, key)
	}
	return n
}

func (p *parser) integer(n *yaml.Node, what string) int {
	v, err := strconv.Atoi(p.str(n, what))
	if err != nil {
		p.errf(n, "%s: want an integer, got %q", what, n.Value)
	}
	return v
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	switch strings.ToLower(p.str(n, what)) {
	case "true", "yes", "on":
		return true
	case "false", "no", "off":
		return false
	}
	p.errf(n, "%s: want true or false, got %q", what, n.Value)
	return false
}

// list accepts a sequence of scalars or one scalar.
func (p *parser) list(n *yaml.Node, what string) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{p.str(n, what)}
	}
	if n.Kind != yaml.SequenceNode {
		p.errf(n, "%s: want a list", what)
		return nil
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, p.str(c, what))
	}
	return out
}

// bsonValue converts a YAML node to BSON, keeping mapping order (bson.D).
func (p *parser) bsonValue(n *yaml.Node, what string) any {
	switch n.Kind {
	case yaml.MappingNode:
		var d bson.D
		for i := 0; i+1 < len(n.Content); i += 2 {
			d = append(d, bson.E{Key: n.Content[i].Value, Value: p.bsonValue(n.Content[i+1], what)})
		}
		if d == nil {
			d = bson.D{}
		}
		return d
	case yaml.SequenceNode:
		a := bson.A{}
		for _, c := range n.Content {
			a = append(a, p.bsonValue(c, what))
		}
		return a
	case yaml.AliasNode:
		return p.bsonValue(n.Alias, what)
	}
	s := p.expand(n, n.Value, what)
	switch n.ShortTag() {
	case "!!int":
		v, _ := strconv.ParseInt(s, 0, 64)
		return v
	case "!!float":
		v, _ := strconv.ParseFloat(s, 64)
		return v
	case "!!bool":
		return s == "true"
	case "!!null":
		return nil
	}
	return s
}

func (p *parser) bsonDoc(n *yaml.Node, what string) bson.D {
	if n == nil {
		return nil
	}
	d, ok := p.bsonValue(n, what).(bson.D)
	if !ok {
		p.errf(n, "%s: want a mapping", what)
	}
	return d
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
