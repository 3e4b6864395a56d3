package pitr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
)

// ExpandTemplate replaces {name} placeholders in a command template. Values
// are shell-quoted; unknown placeholders are left as they are.
func ExpandTemplate(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", shellQuote(v))
	}
	return tmpl
}

func shellQuote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_./:=@+-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// errorLine finds lines that report errors in a tool's output. pgBackRest,
// WAL-G and Barman may exit 0 after printing them (pgbackrest verify does).
var errorLine = regexp.MustCompile(`(?im)^.*\b(ERROR|FATAL|PANIC|error:|failed|invalid|missing|corrupt)\b.*$`)

// RunCommand runs a shell command (sh -c), records exit status and output
// (redacted, last 8 KiB), and fails when it exits non-zero or prints error
// lines.
func RunCommand(ctx context.Context, command string, env []string) (*CommandRun, error) {
	start := time.Now()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Env = append(cmd.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := dburl.Redact(out.String())
	if len(text) > 8192 {
		text = "..." + text[len(text)-8192:]
	}
	run := &CommandRun{Command: dburl.Redact(command), Output: text, Seconds: time.Since(start).Seconds()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		run.ExitCode = ee.ExitCode()
		return run, fmt.Errorf("command %q exited %d: %s", run.Command, run.ExitCode, lastLines(text, 5))
	case err != nil:
		run.ExitCode = -1
		return run, fmt.Errorf("command %q: %w", run.Command, err)
	}
	if m := errorLine.FindAllString(text, 5); len(m) > 0 {
		return run, fmt.Errorf("command %q exited 0 but reported errors: %s", run.Command, strings.Join(m, "; "))
	}
	return run, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}
