package migrator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/golang-migrate/migrate/v4/source"

	"github.com/tidemark/tidemark/internal/dburl"
)

// NoTransactionMarker on the first line of a SQL migration runs it outside a
// transaction, statement by statement, with progress recorded (needed for
// CREATE INDEX CONCURRENTLY).
const NoTransactionMarker = "-- tidemark:no-transaction"

// Script is one migration file, read and split.
type Script struct {
	File          string      `json:"file"` // base name, e.g. 001_init.up.sql
	Checksum      string      `json:"checksum"`
	Transactional bool        `json:"transactional"`
	Statements    []Statement `json:"statements"`
	path          string
}

// Migration is one version: its up file and, if present, its down file.
type Migration struct {
	Version uint64  `json:"version"`
	Name    string  `json:"name"`
	Up      *Script `json:"up,omitempty"`
	Down    *Script `json:"down,omitempty"`
}

// Source is a parsed migration directory, in version order.
type Source struct {
	Dir        string
	Migrations []*Migration
}

// looksLikeMigration matches names meant as migration files, parsable or not.
var looksLikeMigration = regexp.MustCompile(`\.(up|down)\.(sql|json)$`)

// LoadSource reads dir with golang-migrate's file name rules
// (NNN_name.up.sql / .down.sql; .json command files for MongoDB).
func LoadSource(dir string, engine dburl.Engine) (*Source, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, sourceErr("source directory %s does not exist (set --source)", dir)
		}
		return nil, sourceErr("read source directory: %v", err)
	}
	ext := ".sql"
	if engine == dburl.Mongo {
		ext = ".json"
	}
	index := source.NewMigrations()
	byVersion := map[uint64]*Migration{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !looksLikeMigration.MatchString(name) {
			continue
		}
		m, err := source.Parse(name)
		if err != nil {
			return nil, sourceErr("%s: unparsable migration file name: want NNN_name.up%s / NNN_name.down%s", filepath.Join(dir, name), ext, ext)
		}
		if !strings.HasSuffix(name, ext) {
			return nil, sourceErr("%s: a %s database takes %s migration files", filepath.Join(dir, name), engine, ext)
		}
		if !index.Append(m) {
			return nil, sourceErr("duplicate migration version %d in %s (%s)", m.Version, dir, name)
		}
		mig := byVersion[uint64(m.Version)]
		if mig == nil {
			mig = &Migration{Version: uint64(m.Version), Name: m.Identifier}
			byVersion[mig.Version] = mig
		} else if mig.Name != m.Identifier {
			return nil, sourceErr("duplicate migration version %d in %s: %q and %q", m.Version, dir, mig.Name, m.Identifier)
		}
		sc, err := readScript(filepath.Join(dir, name), engine)
		if err != nil {
			return nil, err
		}
		if m.Direction == source.Up {
			mig.Up = sc
		} else {
			mig.Down = sc
		}
	}
	src := &Source{Dir: dir}
	for _, m := range byVersion {
		if m.Up == nil {
			return nil, sourceErr("version %d (%s) has a down file but no up file", m.Version, m.Name)
		}
		src.Migrations = append(src.Migrations, m)
	}
	sort.Slice(src.Migrations, func(i, j int) bool { return src.Migrations[i].Version < src.Migrations[j].Version })
	return src, nil
}

func readScript(path string, engine dburl.Engine) (*Script, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, sourceErr("read %v", err)
	}
	sum := sha256.Sum256(body)
	sc := &Script{File: filepath.Base(path), path: path, Checksum: hex.EncodeToString(sum[:])}
	if engine == dburl.Mongo {
		sc.Statements, err = splitCommands(body)
		if err != nil {
			return nil, sourceErr("%s:%v", sc.File, err)
		}
		return sc, nil
	}
	sc.Statements = splitSQL(string(body))
	sc.Transactional = !hasNoTxMarker(string(body))
	return sc, nil
}

func hasNoTxMarker(body string) bool {
	for _, line := range strings.Split(body, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return strings.EqualFold(strings.Join(strings.Fields(line), " "), NoTransactionMarker)
		}
	}
	return false
}

// find returns the migration with version v.
func (s *Source) find(v uint64) *Migration {
	for _, m := range s.Migrations {
		if m.Version == v {
			return m
		}
	}
	return nil
}
