package postgres

import "testing"

// The backup id is read from what pgBackRest, WAL-G and Barman print (their
// documented log lines), or from a `backup_id=` line of a wrapper script.
func TestToolBackupID(t *testing.T) {
	for out, want := range map[string]string{
		"P00   INFO: backup start archive = 000000010000000000000004\nP00   INFO: new backup label = 20250104-100000F_20250104-101500I\nP00   INFO: backup command end: completed successfully": "20250104-100000F_20250104-101500I",
		"INFO: 2019/05/07 08:31:00.393989 Wrote backup with name base_000000010000000000000045":                                                                                                 "base_000000010000000000000045",
		"Starting backup using postgres method for server main in /var/lib/barman/main/base/20230620T143519\nBackup start at LSN: 0/5000148":                                                    "20230620T143519",
		"copying...\nbackup_id=fake-1\n":  "fake-1",
		"Backup ID: 20260101T000000\n":    "20260101T000000",
		"backup done, nothing to parse\n": "",
	} {
		if got := toolBackupID(out); got != want {
			t.Errorf("toolBackupID(%q) = %q, want %q", out, got, want)
		}
	}
}
