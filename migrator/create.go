package migrator

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/tidemark/tidemark/internal/errkind"
)

// Created names the two files Create wrote.
type Created struct {
	Version uint64 `json:"version"`
	Up      string `json:"up"`
	Down    string `json:"down"`
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// Create writes an empty up and down migration NNN_name in dir (created if
// missing), numbered one past the highest version there, zero-padded to the
// width already used (at least 3 digits). ext is "sql" (default) or "json"
// (MongoDB command files).
func Create(dir, name, ext string) (Created, error) {
	slug := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if slug == "" {
		return Created{}, errkind.Usagef("create: migration name %q has no letters or digits", name)
	}
	if ext == "" {
		ext = "sql"
	}
	if ext != "sql" && ext != "json" {
		return Created{}, errkind.Usagef("create: extension %q: want sql or json", ext)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Created{}, errkind.Usagef("create: %v", err)
	}
	next, width, err := nextVersion(dir)
	if err != nil {
		return Created{}, err
	}
	base := filepath.Join(dir, fmt.Sprintf("%0*d_%s", width, next, slug))
	c := Created{Version: next, Up: base + ".up." + ext, Down: base + ".down." + ext}
	upBody, downBody := "-- "+slug+": up\n", "-- "+slug+": down (undo the up file)\n"
	if ext == "json" {
		upBody, downBody = "[]\n", "[]\n"
	}
	for _, f := range []struct{ path, body string }{{c.Up, upBody}, {c.Down, downBody}} {
		fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return Created{}, errkind.Usagef("create: %v", err)
		}
		_, err = fh.WriteString(f.body)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return Created{}, fmt.Errorf("create: %w", err)
		}
	}
	return c, nil
}

// nextVersion returns the version after the highest in dir and the digit
// width to use.
func nextVersion(dir string) (uint64, int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, errkind.Usagef("create: %v", err)
	}
	var max uint64
	width := 3
	for _, e := range entries {
		m := looksLikeMigration.MatchString(e.Name())
		digits := leadingDigits(e.Name())
		if !m || digits == "" {
			continue
		}
		var v uint64
		if _, err := fmt.Sscan(digits, &v); err != nil {
			continue
		}
		if v > max {
			max = v
		}
		if len(digits) > width && digits[0] == '0' {
			width = len(digits)
		}
	}
	return max + 1, width, nil
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
