package mongo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/errkind"
)

// OpKind names a document-shape operation.
type OpKind string

// The operations a MongoDB migration file may hold.
const (
	AddField    OpKind = "add_field"
	RenameField OpKind = "rename_field"
	ChangeField OpKind = "change_field"
	DropField   OpKind = "drop_field"
	CreateIndex OpKind = "create_index"
	DropIndex   OpKind = "drop_index"
)

// Operation is one operation of a migration. Up, Down and Default hold
// aggregation expressions / values as bson values (bson.D, bson.A, scalars).
type Operation struct {
	Kind       OpKind `bson:"kind" json:"kind"`
	Collection string `bson:"collection" json:"collection"`
	// Field: add_field's new field, change_field's old field, drop_field's field.
	Field string `bson:"field,omitempty" json:"field,omitempty"`
	// From/To: rename_field; To is also change_field's new field.
	From string `bson:"from,omitempty" json:"from,omitempty"`
	To   string `bson:"to,omitempty" json:"to,omitempty"`
	Up   any    `bson:"up,omitempty" json:"up,omitempty"`
	Down any    `bson:"down,omitempty" json:"down,omitempty"`
	// Default is add_field's value for documents when Up is absent.
	Default    any  `bson:"default,omitempty" json:"default,omitempty"`
	HasDefault bool `bson:"has_default,omitempty" json:"-"`
	// Index: Name, Keys, Unique.
	Name   string `bson:"name,omitempty" json:"name,omitempty"`
	Keys   bson.D `bson:"keys,omitempty" json:"keys,omitempty"`
	Unique bool   `bson:"unique,omitempty" json:"unique,omitempty"`
	// Line is the operation's line in its file (for messages).
	Line int `bson:"line" json:"line"`
}

// Migration is one parsed migration file.
type Migration struct {
	// Name is the file's name: or else its base name without extension.
	Name       string      `bson:"name" json:"name"`
	File       string      `bson:"file" json:"file"`
	Operations []Operation `bson:"operations" json:"operations"`
	// Checksum is the SHA-256 of the file's bytes: a resumed expand must be
	// given the same file.
	Checksum string `bson:"checksum" json:"checksum"`
	source   []byte
}

// Parse reads a migration file (YAML or JSON): an optional name: and an
// operations: list of single-key maps. Errors name file:line and wrap
// errkind.ErrUsage.
func Parse(r io.Reader, filename string) (*Migration, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", filename, err)
	}
	sum := sha256.Sum256(b)
	m := &Migration{File: filename, Checksum: hex.EncodeToString(sum[:]), source: b}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, errkind.Usagef("%s: %v", filename, err)
	}
	p := parser{file: filename}
	if err := p.migration(&doc, m); err != nil {
		return nil, err
	}
	if m.Name == "" {
		base := filepath.Base(filename)
		m.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if !validName(m.Name) {
		return nil, p.errf(&doc, "migration name %q: use letters, digits, '_' and '-'", m.Name)
	}
	return m, nil
}

type parser struct{ file string }

func (p parser) errf(n *yaml.Node, format string, args ...any) error {
	return errkind.Usagef("%s:%d: %s", p.file, n.Line, fmt.Sprintf(format, args...))
}

func (p parser) migration(doc *yaml.Node, m *Migration) error {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return p.errf(root, "want a mapping with name: and operations:")
	}
	var ops *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "name":
			m.Name = v.Value
		case "operations":
			ops = v
		default:
			return p.errf(k, "unknown key %q (want name or operations)", k.Value)
		}
	}
	if ops == nil || ops.Kind != yaml.SequenceNode || len(ops.Content) == 0 {
		return p.errf(root, "operations: want a non-empty list")
	}
	for _, n := range ops.Content {
		op, err := p.operation(n)
		if err != nil {
			return err
		}
		m.Operations = append(m.Operations, op)
	}
	return nil
}

func (p parser) operation(n *yaml.Node) (Operation, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return Operation{}, p.errf(n, "an operation is a map with one key (add_field, rename_field, change_field, drop_field, create_index, drop_index)")
	}
	kind, body := n.Content[0], n.Content[1]
	op := Operation{Kind: OpKind(kind.Value), Line: kind.Line}
	if body.Kind != yaml.MappingNode {
		return op, p.errf(body, "%s: want a map of settings", kind.Value)
	}
	allowed, ok := opKeys[op.Kind]
	if !ok {
		return op, p.errf(kind, "unknown operation %q", kind.Value)
	}
	for i := 0; i+1 < len(body.Content); i += 2 {
		k, v := body.Content[i], body.Content[i+1]
		if !strings.Contains(" "+allowed+" ", " "+k.Value+" ") {
			return op, p.errf(k, "%s: unknown key %q (want %s)", op.Kind, k.Value, allowed)
		}
		if err := p.setKey(&op, k, v); err != nil {
			return op, err
		}
	}
	return op, p.check(n, &op)
}

var opKeys = map[OpKind]string{
	AddField:    "collection field up default",
	RenameField: "collection from to",
	ChangeField: "collection field to up down",
	DropField:   "collection field down",
	CreateIndex: "collection name keys unique",
	DropIndex:   "collection name",
}

func (p parser) setKey(op *Operation, k, v *yaml.Node) error {
	var err error
	switch k.Value {
	case "collection", "field", "from", "to", "name":
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return p.errf(v, "%s.%s: want a non-empty string", op.Kind, k.Value)
		}
		*map[string]*string{"collection": &op.Collection, "field": &op.Field, "from": &op.From, "to": &op.To, "name": &op.Name}[k.Value] = v.Value
	case "up":
		op.Up, err = nodeValue(v)
	case "down":
		op.Down, err = nodeValue(v)
	case "default":
		op.Default, err = nodeValue(v)
		op.HasDefault = true
	case "unique":
		if v.Value != "true" && v.Value != "false" {
			return p.errf(v, "%s.unique: want true or false", op.Kind)
		}
		op.Unique = v.Value == "true"
	case "keys":
		op.Keys, err = p.indexKeys(v)
	}
	if err != nil {
		return p.errf(v, "%s.%s: %v", op.Kind, k.Value, err)
	}
	return nil
}

// indexKeys accepts a map {field: 1|-1|"text"|...} or a list of fields (ascending).
func (p parser) indexKeys(v *yaml.Node) (bson.D, error) {
	var keys bson.D
	switch v.Kind {
	case yaml.SequenceNode:
		for _, f := range v.Content {
			keys = append(keys, bson.E{Key: f.Value, Value: int32(1)})
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(v.Content); i += 2 {
			val, err := nodeValue(v.Content[i+1])
			if err != nil {
				return nil, err
			}
			keys = append(keys, bson.E{Key: v.Content[i].Value, Value: val})
		}
	default:
		return nil, fmt.Errorf("want a map of field: 1|-1 or a list of fields")
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("want at least one key")
	}
	return keys, nil
}

func (p parser) check(n *yaml.Node, op *Operation) error {
	need := func(ok bool, what string) error {
		if ok {
			return nil
		}
		return p.errf(n, "%s: %s is required", op.Kind, what)
	}
	errs := []error{need(op.Collection != "", "collection")}
	switch op.Kind {
	case AddField:
		errs = append(errs, need(op.Field != "", "field"), need(op.Up != nil || op.HasDefault, "up or default"))
	case RenameField:
		errs = append(errs, need(op.From != "", "from"), need(op.To != "", "to"))
	case ChangeField:
		errs = append(errs, need(op.Field != "", "field"), need(op.To != "", "to (the new field: one field cannot hold both shapes at once)"),
			need(op.Up != nil, "up"), need(op.Down != nil, "down"))
	case DropField:
		errs = append(errs, need(op.Field != "", "field"))
	case CreateIndex:
		errs = append(errs, need(op.Name != "", "name"), need(len(op.Keys) > 0, "keys"))
	case DropIndex:
		errs = append(errs, need(op.Name != "", "name"))
	}
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	for _, f := range []string{op.Field, op.From, op.To} {
		if strings.HasPrefix(f, "$") || strings.HasPrefix(f, "_tidemark") || f == "_id" || strings.Contains(f, ".") {
			return p.errf(n, "%s: field %q cannot be changed (top-level fields only, not _id or _tidemark*)", op.Kind, f)
		}
	}
	if op.From != "" && op.From == op.To || op.Kind == ChangeField && op.Field == op.To {
		return p.errf(n, "%s: the new field must differ from the old one", op.Kind)
	}
	for _, e := range []any{op.Up, op.Down} {
		if err := checkExpr(e); err != nil {
			return p.errf(n, "%s: %v", op.Kind, err)
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
