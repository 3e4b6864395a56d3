package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/tidemark/tidemark/internal/errkind"
)

// configValue is one setting read from the YAML config file.
type configValue struct {
	value string
	line  int
}

// applyConfig fills the flags the user did not set, first from TIDEMARK_*
// environment variables (and DATABASE_URL), then from the config file.
// Precedence: defaults < file < env < flags.
func applyConfig(cmd *cobra.Command, file string) error {
	if file == "" {
		file = os.Getenv("TIDEMARK_CONFIG")
	}
	var values map[string]configValue
	if file != "" {
		var err error
		if values, err = loadConfig(file, cmd.Root(), commandPath(cmd)); err != nil {
			return err
		}
	}
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		firstErr = setFromEnvOrFile(f, values, file)
	})
	return firstErr
}

func setFromEnvOrFile(f *pflag.Flag, values map[string]configValue, file string) error {
	env := "TIDEMARK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
	if v, ok := os.LookupEnv(env); ok {
		if err := f.Value.Set(v); err != nil {
			return errkind.Usagef("environment %s: %v", env, err)
		}
		return nil
	}
	if f.Name == "database" {
		if v := os.Getenv("DATABASE_URL"); v != "" {
			return f.Value.Set(v)
		}
	}
	if cv, ok := values[f.Name]; ok {
		if err := f.Value.Set(cv.value); err != nil {
			return errkind.Usagef("%s:%d: %s: %v", file, cv.line, f.Name, err)
		}
	}
	return nil
}

// commandPath is the command's path below the root, e.g. "snapshot create".
func commandPath(cmd *cobra.Command) string {
	return strings.TrimSpace(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()))
}

// loadConfig parses the YAML file. Top-level keys are flag names; a key named
// after a command (e.g. `snapshot:`) holds that command's settings. Unknown
// keys are rejected with file:line. Returns the values that apply to path.
func loadConfig(file string, root *cobra.Command, path string) (map[string]configValue, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, errkind.Usagef("config: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errkind.Usagef("config %s: %v", file, err)
	}
	out := map[string]configValue{}
	if len(doc.Content) == 0 {
		return out, nil
	}
	return out, walkConfig(file, doc.Content[0], root, "", path, out)
}

func walkConfig(file string, n *yaml.Node, cmd *cobra.Command, prefix, path string, out map[string]configValue) error {
	if n.Kind != yaml.MappingNode {
		return errkind.Usagef("%s:%d: expected a mapping of settings", file, n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if sub := findSub(cmd, k.Value); sub != nil && v.Kind == yaml.MappingNode {
			p := strings.TrimSpace(prefix + " " + k.Value)
			target := out
			if !strings.HasPrefix(path+" ", p+" ") {
				target = map[string]configValue{} // validated, not applied
			}
			if err := walkConfig(file, v, sub, p, path, target); err != nil {
				return err
			}
			continue
		}
		if !knownFlag(cmd, k.Value) {
			return errkind.Usagef("%s:%d: unknown key %q", file, k.Line, k.Value)
		}
		val, err := scalarOrList(file, v)
		if err != nil {
			return err
		}
		if _, set := out[k.Value]; !set || prefix != "" {
			out[k.Value] = configValue{value: val, line: v.Line}
		}
	}
	return nil
}

func findSub(cmd *cobra.Command, name string) *cobra.Command {
	for _, c := range cmd.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// knownFlag reports whether any command in cmd's subtree (or its persistent
// parents) has a flag called name.
func knownFlag(cmd *cobra.Command, name string) bool {
	if cmd.Flags().Lookup(name) != nil || cmd.PersistentFlags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil {
		return true
	}
	for _, c := range cmd.Commands() {
		if knownFlag(c, name) {
			return true
		}
	}
	return false
}

func scalarOrList(file string, v *yaml.Node) (string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return v.Value, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return "", errkind.Usagef("%s:%d: expected a list of values", file, e.Line)
			}
			parts = append(parts, e.Value)
		}
		return strings.Join(parts, ","), nil
	}
	return "", errkind.Usagef("%s:%d: expected a value or a list", file, v.Line)
}
