// Package pgbin finds the machine's PostgreSQL server binaries (initdb,
// pg_ctl, pg_basebackup, pg_verifybackup, ...) and runs them, as the
// `postgres` OS user when the current process is root (PostgreSQL refuses to
// run a server as root).
package pgbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ErrNotFound means no PostgreSQL server binaries were found.
var ErrNotFound = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: install them (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) or put their bin directory on PATH")

// Dir returns the directory holding initdb and pg_ctl: PG_BINDIR if set,
// then PATH, then the newest /usr/lib/postgresql/*/bin.
func Dir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		if isExec(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", ErrNotFound
}

// Path returns the full path of one PostgreSQL binary.
func Path(name string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(d, name)
	if !isExec(p) {
		return "", fmt.Errorf("%s not found in %s", name, d)
	}
	return p, nil
}

func majorOf(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// ServerUser returns the uid/gid server processes must run as: the current
// user, or `postgres` when running as root.
func ServerUser() (uid, gid int, err error) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid(), nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, fmt.Errorf("running as root, PostgreSQL needs the `postgres` OS user: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// Command builds an exec.Cmd for a PostgreSQL binary that runs as the server
// user (see ServerUser).
func Command(ctx context.Context, name string, args ...string) (*exec.Cmd, error) {
	p, err := Path(name)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, p, args...)
	if os.Geteuid() == 0 {
		uid, gid, err := ServerUser()
		if err != nil {
			return nil, err
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(os.Environ(), "HOME=/tmp")
	}
	cmd.Dir = os.TempDir()
	return cmd, nil
}

// Run runs a PostgreSQL binary as the server user and returns its combined
// output; the error includes that output.
func Run(ctx context.Context, name string, args ...string) (string, error) {
	cmd, err := Command(ctx, name, args...)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

// Chown gives a directory tree to the server user (no-op unless root).
func Chown(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := ServerUser()
	if err != nil {
		return err
	}
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
