package postgres

import (
	"fmt"
	"os"

	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
)

// archiveDir is the WAL archive directory to read for m: --archive-dir when
// given, else the one recorded at create ("" when neither is known). A
// known directory that is no longer there is an error: nothing can be
// recovered from it.
func (p *Provider) archiveDir(m *pitr.Manifest) (string, error) {
	dir := p.opts.ArchiveDir
	if dir == "" {
		dir = m.Position.ArchiveDir
	}
	if dir == "" {
		return "", nil
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		return "", fmt.Errorf("archive directory %s no longer exists", dir)
	}
	return dir, nil
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
