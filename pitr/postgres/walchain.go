package postgres

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tidemark/tidemark/pitr"
)

// checkWALChain checks that every WAL segment from the base backup's start
// through the marker's segment is in the archive directory (same timeline
// only; when the directory is unknown it reports that it could not check).
func (p *Provider) checkWALChain(ctx context.Context, m *pitr.Manifest) (string, error) {
	dir, err := p.archiveDir(m)
	if err != nil {
		return "", err
	}
	bb := m.BaseBackup
	if dir == "" || bb == nil || bb.StartWAL == "" {
		return "not checked: archive directory or base backup start unknown", nil
	}
	if bb.StartWAL[:8] != m.Position.WALFile[:8] {
		return "not checked: the base backup is on another timeline", nil
	}
	var segSize int64
	if err := p.pool.QueryRow(ctx, `SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'`).Scan(&segSize); err != nil {
		return "", fmt.Errorf("read wal_segment_size: %w", err)
	}
	names, err := walRange(bb.StartWAL, m.Position.WALFile, segSize)
	if err != nil {
		return "", err
	}
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%d of %d WAL segments missing from %s: %s", len(missing), len(names), dir, strings.Join(missing, ", "))
	}
	return fmt.Sprintf("%d segments %s..%s in %s", len(names), bb.StartWAL, m.Position.WALFile, dir), nil
}

// walRange lists the segment file names from first through last (same
// timeline) for a segment size in bytes.
func walRange(first, last string, segSize int64) ([]string, error) {
	perLog := uint64(0x100000000 / segSize)
	a, err := segNo(first, perLog)
	if err != nil {
		return nil, err
	}
	b, err := segNo(last, perLog)
	if err != nil {
		return nil, err
	}
	if b < a || b-a > 1<<20 {
		return nil, fmt.Errorf("WAL range %s..%s is not plausible", first, last)
	}
	out := make([]string, 0, b-a+1)
	for s := a; s <= b; s++ {
		out = append(out, fmt.Sprintf("%s%08X%08X", first[:8], s/perLog, s%perLog))
	}
	return out, nil
}

func segNo(name string, perLog uint64) (uint64, error) {
	if len(name) != 24 {
		return 0, fmt.Errorf("bad WAL file name %q", name)
	}
	log, err1 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err2 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad WAL file name %q", name)
	}
	return log*perLog + seg, nil
}
