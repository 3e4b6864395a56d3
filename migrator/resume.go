package migrator

import (
	"context"
	"fmt"

	"github.com/tidemark/tidemark/internal/errkind"
)

// resumePoints sets ResumeFrom on steps whose last attempt was a
// non-transactional run that failed or died half way: statements recorded as
// done are skipped, provided they have not been edited since.
func (m *Migrator) resumePoints(ctx context.Context, steps []Step) error {
	for i := range steps {
		s := &steps[i]
		last, err := m.eng.lastAttempt(ctx, s.Version, s.Direction)
		if err != nil {
			return fmt.Errorf("read history: %w", err)
		}
		if last == nil || last.Transactional || last.StatementsDone == 0 ||
			(last.Result != ResultFailed && last.Result != ResultInterrupted) {
			continue
		}
		if last.StatementsDone > len(s.Statements) || prefixChecksum(s.Statements, last.StatementsDone) != last.DoneChecksum {
			if !m.opts.AllowDrift {
				return errkind.Preconditionf("%w: %s: attempt %d applied its first %d statement(s) and failed, but those statements have been edited since: restore them so the run can continue at statement %d, or pass --allow-drift to continue there anyway",
					ErrResume, s.File, last.ID, last.StatementsDone, last.StatementsDone+1)
			}
			if last.StatementsDone > len(s.Statements) {
				continue
			}
		}
		s.ResumeFrom = last.StatementsDone
	}
	return nil
}
