package postgres

import "testing"

func TestArchiveDirFromCommand(t *testing.T) {
	for cmd, want := range map[string]string{
		"test ! -f /arch/%f && cp %p /arch/%f":         "/arch",
		`cp -i "%p" "/var/lib/pg archive"/%f`:          "",
		"cp %p /mnt/wal/%f":                            "/mnt/wal",
		"pgbackrest --stanza=main archive-push %p":     "",
		"/usr/bin/cp -n %p /srv/archive/%f </dev/null": "/srv/archive",
	} {
		if got := ArchiveDirFromCommand(cmd); got != want {
			t.Errorf("%q: got %q, want %q", cmd, got, want)
		}
	}
}
