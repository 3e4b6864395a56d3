package expandcontract

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Migration is one pgroll-format migration file: a name and its operations.
type Migration struct {
	Name string `json:"name"`
	// VersionSchema, from the file's version_schema:, overrides the name
	// used for the version schema (<schema>_<VersionSchema>).
	VersionSchema string      `json:"version_schema,omitempty"`
	File          string      `json:"file"`
	Operations    []Operation `json:"-"`
	Source        string      `json:"source"`
}

// ReadFile reads and parses a migration file (YAML or JSON).
func ReadFile(path string) (*Migration, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read migration: %w", errkind.ErrUsage, err)
	}
	return Parse(path, b)
}

// Parse parses a migration in pgroll's format. file names the migration in
// error messages and gives its default name (the base name without
// extension) when the document has no `name:`.
func Parse(file string, data []byte) (*Migration, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errkind.ErrUsage, file, err)
	}
	if doc.Kind == 0 {
		return nil, fmt.Errorf("%w: %s: empty migration file", errkind.ErrUsage, file)
	}
	o, err := newObj(file, &doc, "migration")
	if err != nil {
		return nil, err
	}
	if err := o.check("migration", "name", "operations", "version_schema"); err != nil {
		return nil, err
	}
	m := &Migration{File: file, Source: string(data)}
	if m.Name, err = o.str("name"); err != nil {
		return nil, err
	}
	if m.Name == "" {
		base := filepath.Base(file)
		m.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	if err := checkName(file, o.node, m.Name); err != nil {
		return nil, err
	}
	if m.VersionSchema, err = o.str("version_schema"); err != nil {
		return nil, err
	}
	if m.VersionSchema != "" {
		if err := checkName(file, o.node, m.VersionSchema); err != nil {
			return nil, err
		}
	}
	ops, err := o.list("operations")
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 {
		return nil, errAt(file, o.node, "migration %q has no operations", m.Name)
	}
	for _, n := range ops {
		op, err := parseOperation(file, n)
		if err != nil {
			return nil, err
		}
		m.Operations = append(m.Operations, op)
	}
	return m, nil
}

func checkName(file string, n *yaml.Node, name string) error {
	if len(name) > 40 {
		return errAt(file, n, "migration name %q is longer than 40 characters", name)
	}
	for _, r := range name {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return errAt(file, n, "migration name %q: use letters, digits, _ and -", name)
		}
	}
	return nil
}

type opParser func(o *obj) (Operation, error)

var opParsers = map[string]opParser{
	"create_table":                parseCreateTable,
	"drop_table":                  parseDropTable,
	"rename_table":                parseRenameTable,
	"add_column":                  parseAddColumn,
	"drop_column":                 parseDropColumn,
	"rename_column":               parseRenameColumn,
	"alter_column":                parseAlterColumn,
	"create_index":                parseCreateIndex,
	"drop_index":                  parseDropIndex,
	"create_constraint":           parseCreateConstraint,
	"drop_constraint":             parseDropConstraint,
	"drop_multicolumn_constraint": parseDropMultiConstraint,
	"rename_constraint":           parseRenameConstraint,
	"set_replica_identity":        parseSetReplicaIdentity,
	"sql":                         parseRawSQL,
}

func parseOperation(file string, n *yaml.Node) (Operation, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return nil, errAt(file, n, "an operation is a mapping with exactly one key (its kind)")
	}
	kind := n.Content[0].Value
	p, ok := opParsers[kind]
	if !ok {
		return nil, errAt(file, n.Content[0], "unknown operation %q", kind)
	}
	o, err := newObj(file, n.Content[1], kind)
	if err != nil {
		return nil, err
	}
	return p(o)
}
