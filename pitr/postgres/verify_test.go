package postgres_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// TestVerifyDrill: a drill restore passes; after a WAL segment between the
// base backup and the marker is removed from the archive it fails (exit 4).
func TestVerifyDrill(t *testing.T) {
	t.Parallel()
	pg, ctx, c, p := backedUp(t)
	exec(t, c, `CREATE TABLE orders(id int PRIMARY KEY, v text)`)
	for i := 0; i < 3; i++ {
		exec(t, c, `INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(`+string(rune('1'+i))+`000, `+string(rune('1'+i))+`999) g`)
		exec(t, c, `SELECT pg_switch_wal()`)
	}
	m, err := p.Create(ctx, pitr.CreateOptions{Label: "deploy-2", Tables: []string{"orders"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := p.Verify(ctx, "deploy-2", pitr.VerifyOptions{Drill: true})
	if err != nil || !r.OK {
		t.Fatalf("drill: %+v %v", r, err)
	}

	// remove a segment written after the base backup and before the marker
	segs, _ := filepath.Glob(filepath.Join(pg.ArchiveDir, "0000000*"))
	sort.Strings(segs)
	var victim string
	for _, s := range segs {
		b := filepath.Base(s)
		if len(b) == 24 && b > m.BaseBackup.StartWAL && b < m.Position.WALFile {
			victim = s
		}
	}
	if victim == "" {
		t.Fatalf("no segment between base backup and marker in %v", segs)
	}
	if err := os.Remove(victim); err != nil {
		t.Fatal(err)
	}
	r, err = p.Verify(ctx, "deploy-2", pitr.VerifyOptions{Drill: true})
	if !errors.Is(err, errkind.ErrProblemsFound) || errkind.ExitCode(err) != 4 || r.OK {
		t.Fatalf("drill after removing %s: %+v %v", victim, r, err)
	}
	for _, c := range r.Checks {
		if c.Name == "WAL chain from the base backup" && (c.OK || !strings.Contains(c.Detail, filepath.Base(victim))) {
			t.Errorf("WAL chain check: %+v", c)
		}
	}
	last := r.Checks[len(r.Checks)-1]
	if last.Name != "restore drill" || last.OK || !strings.Contains(last.Detail, "restore point") {
		t.Fatalf("drill check: %+v", last)
	}
}
