package postgres

import (
	"fmt"
	"os"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// archiveDir is the WAL archive directory to read for m: --archive-dir when
// given, else the one recorded at create ("" when neither is known).
func (p *Provider) archiveDir(m *pitr.Manifest) string {
	if p.opts.ArchiveDir != "" {
		return p.opts.ArchiveDir
	}
	return m.Position.ArchiveDir
}

// checkGivenArchiveDir refuses an --archive-dir (flag, TIDEMARK_ARCHIVE_DIR
// or config) that names no directory: bad input, ErrUsage.
func (p *Provider) checkGivenArchiveDir() error {
	dir := p.opts.ArchiveDir
	if dir == "" {
		return nil
	}
	fi, err := os.Stat(dir)
	switch {
	case os.IsNotExist(err):
		return errkind.Usagef("--archive-dir %s does not exist", dir)
	case err != nil:
		return errkind.Usagef("--archive-dir %s: %v", dir, err)
	case !fi.IsDir():
		return errkind.Usagef("--archive-dir %s is not a directory", dir)
	}
	return nil
}

// archiveDirGone reports a known archive directory (recorded at create) that
// is no longer there: nothing can be recovered from it.
func archiveDirGone(dir string) error {
	if dir == "" {
		return nil
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return fmt.Errorf("archive directory %s no longer exists", dir)
	}
	return nil
}
