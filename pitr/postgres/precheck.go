package postgres

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/tidemark/tidemark/internal/errkind"
)

// serverInfo is what the preconditions read from the server.
type serverInfo struct {
	Version        string
	WALLevel       string
	ArchiveMode    string
	ArchiveCommand string
	DataDir        string // empty when not readable
	ArchiveDir     string // known archive directory, or empty
}

// archiver is one row of pg_stat_archiver.
type archiver struct {
	Archived     int64
	LastArchived string
	LastArchTime *time.Time
	Failed       int64
	LastFailed   string
	LastFailTime *time.Time
}

func (p *Provider) serverInfo(ctx context.Context) (*serverInfo, error) {
	s := &serverInfo{}
	err := p.pool.QueryRow(ctx, `SELECT current_setting('server_version'), current_setting('wal_level'),
		current_setting('archive_mode'), current_setting('archive_command')`).
		Scan(&s.Version, &s.WALLevel, &s.ArchiveMode, &s.ArchiveCommand)
	if err != nil {
		return nil, fmt.Errorf("read server settings: %w", err)
	}
	_ = p.pool.QueryRow(ctx, `SELECT current_setting('data_directory', true)`).Scan(&s.DataDir)
	s.ArchiveDir = p.opts.ArchiveDir
	if s.ArchiveDir == "" {
		s.ArchiveDir = ArchiveDirFromCommand(s.ArchiveCommand)
	}
	if s.ArchiveDir == "" {
		// PostgreSQL 15+ basic_archive module (archive_library = 'basic_archive')
		var lib, dir string
		_ = p.pool.QueryRow(ctx, `SELECT coalesce(current_setting('archive_library', true), ''),
			coalesce(current_setting('basic_archive.archive_directory', true), '')`).Scan(&lib, &dir)
		if lib == "basic_archive" {
			s.ArchiveDir = dir
		}
	}
	return s, nil
}

var cpArchive = regexp.MustCompile(`\bcp\s+(?:-\S+\s+)*"?%p"?\s+"?([^"\s;&|]+)/%f`)

// ArchiveDirFromCommand extracts the archive directory from an
// archive_command of the form `... cp %p /dir/%f`, or returns "".
func ArchiveDirFromCommand(cmd string) string {
	if m := cpArchive.FindStringSubmatch(cmd); m != nil {
		return m[1]
	}
	return ""
}

func (p *Provider) archiverStats(ctx context.Context) (*archiver, error) {
	a := &archiver{}
	err := p.pool.QueryRow(ctx, `SELECT archived_count, coalesce(last_archived_wal, ''), last_archived_time,
		failed_count, coalesce(last_failed_wal, ''), last_failed_time FROM pg_stat_archiver`).
		Scan(&a.Archived, &a.LastArchived, &a.LastArchTime, &a.Failed, &a.LastFailed, &a.LastFailTime)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_archiver: %w", err)
	}
	return a, nil
}

// failing reports whether the archiver's last attempt failed.
func (a *archiver) failing() bool {
	if a.LastFailTime == nil {
		return false
	}
	return a.LastArchTime == nil || a.LastFailTime.After(*a.LastArchTime)
}

// preconditions checks everything a restorable marker needs except the base
// backup (checked after one may have been taken).
func (p *Provider) preconditions(ctx context.Context, s *serverInfo) error {
	if s.WALLevel != "replica" && s.WALLevel != "logical" {
		return errkind.Preconditionf("wal_level is %q: set wal_level = replica (or logical) in postgresql.conf and restart PostgreSQL", s.WALLevel)
	}
	if s.ArchiveMode != "on" && s.ArchiveMode != "always" {
		return errkind.Preconditionf("WAL archiving is off (archive_mode = %s): set archive_mode = on and an archive_command (or archive_library), then restart PostgreSQL", s.ArchiveMode)
	}
	a, err := p.archiverStats(ctx)
	if err != nil {
		return err
	}
	if a.failing() {
		return errkind.Preconditionf("the WAL archiver is failing: %d failures, last for %s at %s, after the last success (%s): fix archive_command (%q) and check the server log",
			a.Failed, a.LastFailed, a.LastFailTime.Format(time.RFC3339), fmtTime(a.LastArchTime), s.ArchiveCommand)
	}
	var ok bool
	err = p.pool.QueryRow(ctx, `SELECT has_function_privilege('pg_create_restore_point(text)', 'EXECUTE')
		AND has_function_privilege('pg_switch_wal()', 'EXECUTE')`).Scan(&ok)
	if err != nil {
		return fmt.Errorf("check privileges: %w", err)
	}
	if !ok {
		return errkind.Preconditionf("user %q may not call pg_create_restore_point/pg_switch_wal: connect as a superuser or GRANT EXECUTE ON FUNCTION pg_create_restore_point(text), pg_switch_wal() TO %s", p.u.User(), p.u.User())
	}
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return t.Format(time.RFC3339)
}
