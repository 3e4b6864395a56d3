package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Fleet is a parsed fleet file: the services a pipeline deploys together.
//
//	state_url: ${CONTROL_DATABASE_URL}   # fleet records (default: each service's database)
//	services:
//	  - name: orders
//	    database: ${ORDERS_DATABASE_URL}
//	    migrations: migrations/orders
//	    expand: [expand/orders_split_amount.yaml]
//	    rules: rules/ecommerce.yaml
//	    depends_on: [payments]
//	    priority: 10
//
// ${VAR} references are expanded from the environment; relative paths are
// relative to the fleet file.
type Fleet struct {
	StateURL string
	Services []Service
	byName   map[string]int
}

type fleetYAML struct {
	StateURL string        `yaml:"state_url"`
	Services []serviceYAML `yaml:"services"`
}

type serviceYAML struct {
	Name           string   `yaml:"name"`
	Database       string   `yaml:"database"`
	Migrations     string   `yaml:"migrations"`
	Expand         []string `yaml:"expand"`
	Rules          string   `yaml:"rules"`
	SnapshotTables []string `yaml:"snapshot_tables"`
	DependsOn      []string `yaml:"depends_on"`
	Priority       int      `yaml:"priority"`
	line           int
}

// LoadFleet reads and validates a fleet file.
func LoadFleet(path string) (*Fleet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errkind.Usagef("fleet file: %w", err)
	}
	defer f.Close()
	return ParseFleet(f, path)
}

// ParseFleet parses and validates a fleet file read from r; name is used in
// errors (name:line: message) and to resolve relative paths.
func ParseFleet(r io.Reader, name string) (*Fleet, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, errkind.Usagef("%s: %v", name, err)
	}
	var fy fleetYAML
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&fy); err != nil {
		return nil, yamlError(name, err)
	}
	lines := serviceLines(&doc)
	for i := range fy.Services {
		if i < len(lines) {
			fy.Services[i].line = lines[i]
		}
	}
	return buildFleet(fy, name)
}

// serviceLines returns the line of each entry of `services:`.
func serviceLines(doc *yaml.Node) []int {
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "services" {
			var out []int
			for _, n := range m.Content[i+1].Content {
				out = append(out, n.Line)
			}
			return out
		}
	}
	return nil
}

func buildFleet(fy fleetYAML, name string) (*Fleet, error) {
	base := filepath.Dir(name)
	f := &Fleet{StateURL: os.ExpandEnv(fy.StateURL), byName: map[string]int{}}
	if len(fy.Services) == 0 {
		return nil, errkind.Usagef("%s: no services", name)
	}
	for _, sy := range fy.Services {
		at := fmt.Sprintf("%s:%d", name, sy.line)
		s := Service{Name: sy.Name, Database: os.ExpandEnv(sy.Database), Migrations: rel(base, sy.Migrations),
			Rules: rel(base, sy.Rules), SnapshotTables: sy.SnapshotTables, DependsOn: sy.DependsOn, Priority: sy.Priority}
		for _, e := range sy.Expand {
			s.Expand = append(s.Expand, rel(base, e))
		}
		if s.Name == "" {
			return nil, errkind.Usagef("%s: service without a name", at)
		}
		if _, dup := f.byName[s.Name]; dup {
			return nil, errkind.Usagef("%s: service %q listed twice", at, s.Name)
		}
		if s.Database == "" {
			return nil, errkind.Usagef("%s: service %s: no database (an unset ${VAR}?)", at, s.Name)
		}
		if err := s.Validate(); err != nil {
			return nil, errkind.Usagef("%s: %v", at, err)
		}
		f.byName[s.Name] = len(f.Services)
		f.Services = append(f.Services, s)
	}
	for i, s := range f.Services {
		for _, dep := range s.DependsOn {
			if _, ok := f.byName[dep]; !ok {
				return nil, errkind.Usagef("%s:%d: service %s depends on unknown service %q", name, fy.Services[i].line, s.Name, dep)
			}
		}
	}
	if cyc := f.cycle(); cyc != nil {
		return nil, errkind.Usagef("%s:%d: dependency cycle: %s", name, fy.Services[f.byName[cyc[0]]].line, strings.Join(cyc, " -> "))
	}
	return f, nil
}

func rel(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// Service returns the named service.
func (f *Fleet) Service(name string) (Service, bool) {
	i, ok := f.byName[name]
	if !ok {
		return Service{}, false
	}
	return f.Services[i], true
}

// cycle returns a dependency cycle (first name repeated last), or nil.
func (f *Fleet) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(string) []string
	visit = func(n string) []string {
		color[n] = grey
		stack = append(stack, n)
		s, _ := f.Service(n)
		deps := append([]string(nil), s.DependsOn...)
		sort.Strings(deps)
		for _, d := range deps {
			switch color[d] {
			case grey:
				i := indexOf(stack, d)
				return append(append([]string(nil), stack[i:]...), d)
			case white:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return nil
	}
	for _, s := range f.Services {
		if color[s.Name] == white {
			if c := visit(s.Name); c != nil {
				return c
			}
		}
	}
	return nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

var yamlLineRE = regexp.MustCompile(`line (\d+): (?:field (\S+) not found in type \S+)?(.*)`)

// yamlError rewrites yaml.v3 errors as "file:line: message".
func yamlError(name string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return errkind.Usagef("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	m := yamlLineRE.FindStringSubmatch(te.Errors[0])
	if m == nil {
		return errkind.Usagef("%s: %s", name, te.Errors[0])
	}
	if m[2] != "" {
		return errkind.Usagef("%s:%s: unknown key %q", name, m[1], m[2])
	}
	return errkind.Usagef("%s:%s: %s", name, m[1], m[3])
}

// NewFleet builds a fleet from services defined in code: names unique,
// databases valid, dependencies known, no cycle.
func NewFleet(stateURL string, services []Service) (*Fleet, error) {
	f := &Fleet{StateURL: stateURL, byName: map[string]int{}}
	for _, s := range services {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if _, dup := f.byName[s.Name]; dup {
			return nil, errkind.Usagef("service %q listed twice", s.Name)
		}
		f.byName[s.Name] = len(f.Services)
		f.Services = append(f.Services, s)
	}
	for _, s := range f.Services {
		for _, dep := range s.DependsOn {
			if _, ok := f.byName[dep]; !ok {
				return nil, errkind.Usagef("service %s depends on unknown service %q", s.Name, dep)
			}
		}
	}
	if cyc := f.cycle(); cyc != nil {
		return nil, errkind.Usagef("dependency cycle: %s", strings.Join(cyc, " -> "))
	}
	return f, nil
}
