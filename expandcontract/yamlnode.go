package expandcontract

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/errkind"
)

// obj is a YAML (or JSON) mapping being decoded: it remembers the file for
// error messages and which keys were read, so unknown keys are reported
// with their line.
type obj struct {
	file string
	node *yaml.Node
	keys map[string]*yaml.Node
	line map[string]int
}

func errAt(file string, n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%w: %s:%d: %s", errkind.ErrUsage, file, n.Line, fmt.Sprintf(format, args...))
}

func newObj(file string, n *yaml.Node, what string) (*obj, error) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(file, n, "%s: want a mapping", what)
	}
	o := &obj{file: file, node: n, keys: map[string]*yaml.Node{}, line: map[string]int{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		o.keys[n.Content[i].Value] = n.Content[i+1]
		o.line[n.Content[i].Value] = n.Content[i].Line
	}
	return o, nil
}

// check reports the first key not in allowed.
func (o *obj) check(what string, allowed ...string) error {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	var bad []string
	for k := range o.keys {
		if !ok[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Slice(bad, func(i, j int) bool { return o.line[bad[i]] < o.line[bad[j]] })
	return fmt.Errorf("%w: %s:%d: %s: unknown key %q (known: %s)", errkind.ErrUsage, o.file, o.line[bad[0]], what, bad[0], strings.Join(allowed, ", "))
}

func (o *obj) has(k string) bool { _, ok := o.keys[k]; return ok }

func (o *obj) str(k string) (string, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", errAt(o.file, n, "%s: want a string", k)
	}
	return n.Value, nil
}

func (o *obj) need(k, what string) (string, error) {
	s, err := o.str(k)
	if err == nil && s == "" {
		err = errAt(o.file, o.node, "%s: %q is required", what, k)
	}
	return s, err
}

// strp returns nil when k is absent or null.
func (o *obj) strp(k string) (*string, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	s, err := o.str(k)
	return &s, err
}

func (o *obj) boolp(k string) (*bool, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return nil, errAt(o.file, n, "%s: want true or false", k)
	}
	return &b, nil
}

func (o *obj) boolv(k string) (bool, error) {
	b, err := o.boolp(k)
	return b != nil && *b, err
}

func (o *obj) sub(k string) (*obj, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	return newObj(o.file, n, k)
}

func (o *obj) list(k string) ([]*yaml.Node, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(o.file, n, "%s: want a list", k)
	}
	return n.Content, nil
}

func (o *obj) strs(k string) ([]string, error) {
	items, err := o.list(k)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it.Kind != yaml.ScalarNode {
			return nil, errAt(o.file, it, "%s: want a list of strings", k)
		}
		out = append(out, it.Value)
	}
	return out, nil
}

// strMap decodes a mapping of strings (e.g. up: {col: expr}), keeping order.
func (o *obj) strMap(k string) ([][2]string, error) {
	n, ok := o.keys[k]
	if !ok || n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(o.file, n, "%s: want a mapping", k)
	}
	var out [][2]string
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return nil, errAt(o.file, v, "%s.%s: want a string", k, n.Content[i].Value)
		}
		out = append(out, [2]string{n.Content[i].Value, v.Value})
	}
	return out, nil
}
