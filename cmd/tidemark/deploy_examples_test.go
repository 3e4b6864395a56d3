package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/deploy"
)

// TestExamplesUseValidCommands parses every YAML file under examples/ and
// checks each tidemark command line in it against the real command tree:
// the command exists and runs, its flags parse, its arguments validate, and
// the verbs' required options are there.
func TestExamplesUseValidCommands(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/*.y*ml")
	more, _ := filepath.Glob("../../examples/*/*/*.y*ml")
	files = append(files, more...)
	if len(files) < 5 {
		t.Fatalf("found %d example files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cmds := exampleCommands(t, f)
			if len(cmds) == 0 {
				t.Fatal("no tidemark command in the example")
			}
			for _, args := range cmds {
				t.Logf("tidemark %s", strings.Join(args, " "))
				if err := validateCommand(args); err != nil {
					t.Errorf("tidemark %s: %v", strings.Join(args, " "), err)
				}
			}
		})
	}
}

func TestValidateCommandRejectsBadLines(t *testing.T) {
	for _, bad := range [][]string{
		{"deploy", "strat", "--service", "x"},
		{"deploy", "rollback", "--service", "x"},
		{"deploy", "start", "--service", "x", "--release", "1", "--no-such-flag"},
		{"reconcile", "check"},
		{"deploy"},
	} {
		if err := validateCommand(bad); err == nil {
			t.Errorf("tidemark %s: accepted", strings.Join(bad, " "))
		}
	}
	if got := scriptCommands("go install github.com/tidemark/tidemark/cmd/tidemark@latest\n  tidemark deploy finish --service 'a b' && echo ok"); len(got) != 1 || strings.Join(got[0], "|") != "deploy|finish|--service|a b" {
		t.Errorf("scriptCommands: %q", got)
	}
}

func TestExampleFleetParses(t *testing.T) {
	for _, k := range []string{"CONTROL_DATABASE_URL", "ORDERS_URL", "PAYMENTS_URL"} {
		t.Setenv(k, "postgres://app:secret@db.example.com/x")
	}
	t.Setenv("INVENTORY_URL", "mongodb://db.example.com/inventory")
	f, err := deploy.LoadFleet("../../examples/fleet.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range f.Services {
		for _, p := range append([]string{s.Migrations, s.Rules}, s.Expand...) {
			if _, err := os.Stat(p); p != "" && err != nil {
				t.Errorf("service %s: %v", s.Name, err)
			}
		}
	}
}

// validateCommand checks one command line against the cobra tree.
func validateCommand(args []string) error {
	a := &app{stdout: io.Discard, stderr: io.Discard}
	root := a.rootCmd()
	c, rest, err := root.Find(args)
	if err != nil {
		return err
	}
	if !c.Runnable() {
		return errString("not a runnable command: " + c.CommandPath())
	}
	if err := c.ParseFlags(rest); err != nil {
		return err
	}
	if err := c.ValidateArgs(c.Flags().Args()); err != nil {
		return err
	}
	if err := c.ValidateRequiredFlags(); err != nil {
		return err
	}
	need := map[string][]string{
		"tidemark deploy start":    {"service", "release"},
		"tidemark deploy rollback": {"reason"},
		"tidemark reconcile check": {"rules"},
	}
	for _, name := range need[c.CommandPath()] {
		if fl := c.Flags().Lookup(name); fl == nil || !fl.Changed {
			return errString("--" + name + " is required here")
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

// exampleCommands extracts tidemark command lines from a YAML file: command
// arrays ([tidemark, ...] or command: [tidemark] with args: [...]) and
// shell scripts (run:, sh -c) that call tidemark.
func exampleCommands(t *testing.T, path string) [][]string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	var out [][]string
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, walkCommands(&doc)...)
	}
	return out
}

func walkCommands(n *yaml.Node) [][]string {
	var out [][]string
	switch n.Kind {
	case yaml.MappingNode:
		var cmd, args *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch n.Content[i].Value {
			case "command":
				cmd = n.Content[i+1]
			case "args":
				args = n.Content[i+1]
			}
		}
		if cmd != nil && args != nil && cmd.Kind == yaml.SequenceNode && len(cmd.Content) == 1 && cmd.Content[0].Value == "tidemark" {
			return [][]string{scalars(args)}
		}
	case yaml.SequenceNode:
		if s := scalars(n); len(s) > 1 && s[0] == "tidemark" {
			return [][]string{s[1:]}
		}
	case yaml.ScalarNode:
		return scriptCommands(n.Value)
	}
	for _, c := range n.Content {
		out = append(out, walkCommands(c)...)
	}
	return out
}

func scalars(n *yaml.Node) []string {
	var s []string
	for _, c := range n.Content {
		s = append(s, c.Value)
	}
	return s
}

var tidemarkCallRE = regexp.MustCompile(`(?:^|[\s;&|(])tidemark\s+([a-z].*)`)

// scriptCommands finds `tidemark ...` calls in a shell script.
func scriptCommands(script string) [][]string {
	script = strings.ReplaceAll(script, "\\\n", " ")
	var out [][]string
	for _, line := range strings.Split(script, "\n") {
		m := tidemarkCallRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		out = append(out, shellWords(m[1]))
	}
	return out
}

// shellWords splits a command line (quotes, no expansion), stopping at
// |, &&, ; and redirections.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	inWord := false
	flush := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			flush()
		case r == '|' || r == ';' || r == '&' || r == '>':
			flush()
			return words
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return words
}
