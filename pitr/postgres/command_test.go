package postgres_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/fixtures/env"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// TestCommandBaseBackup: --base-backup command runs the template; a failing
// command or one that prints errors and exits 0 stops the snapshot (exit
// 3); a good one is recorded with its output.
func TestCommandBaseBackup(t *testing.T) {
	t.Parallel()
	pg := env.OwnPostgres(t, env.PGOptions{WALArchive: true})
	p := open(t, pg.URL)
	ctx := ctxT(t)
	_, err := p.Create(ctx, pitr.CreateOptions{Label: "c1", BaseBackup: pitr.BackupCommand, BackupCommand: "echo 'ERROR: stanza missing'"})
	wantPrecondition(t, err, "exited 0 but reported errors")
	_, err = p.Create(ctx, pitr.CreateOptions{Label: "c1", BaseBackup: pitr.BackupCommand, BackupCommand: "exit 7"})
	wantPrecondition(t, err, "exited 7")
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "c1", BaseBackup: pitr.BackupCommand,
		BackupCommand: "echo backup --annotation=deploy={label} db={dbname} port={port}"})
	if err != nil {
		t.Fatal(err)
	}
	bb := m.BaseBackup
	if bb == nil || bb.Method != "command" || bb.Command == nil || !strings.Contains(bb.Command.Output, "deploy=c1 db=postgres") {
		t.Fatalf("base backup: %+v", bb)
	}
	// the tool's own verify: its output is scanned, not only its exit status
	rep, err := p.Verify(ctx, "c1", pitr.VerifyOptions{Command: "echo 'P00  ERROR: [028]: backup {label} is missing files'; exit 0"})
	if !errors.Is(err, errkind.ErrProblemsFound) || rep == nil || rep.OK || !checkFailed(rep, "backup tool's verify") {
		t.Fatalf("verify with a tool printing errors and exiting 0: %v %+v", err, rep)
	}
	rep, err = p.Verify(ctx, "c1", pitr.VerifyOptions{Command: "echo verified {label}"})
	if err != nil || !rep.OK {
		t.Fatalf("verify with a passing tool: %v %+v", err, rep)
	}
	// a whole-cluster restore or a drill needs a restore command for the tool's backup: exit 2 naming the flag
	_, err = p.Restore(ctx, "c1", pitr.RestoreOptions{TargetDir: scratchDir(t) + "/r"})
	if errkind.ExitCode(err) != 2 || !strings.Contains(err.Error(), "pass --restore-command") {
		t.Fatalf("restore of a command backup: %v", err)
	}
	rep, err = p.Verify(ctx, "c1", pitr.VerifyOptions{Drill: true})
	if errkind.ExitCode(err) != 2 || rep != nil || !strings.Contains(err.Error(), "pass --restore-command") {
		t.Fatalf("drill of a command backup: %v %+v", err, rep)
	}
}

func checkFailed(r *pitr.VerifyReport, name string) bool {
	for _, c := range r.Checks {
		if c.Name == name {
			return !c.OK
		}
	}
	return false
}
