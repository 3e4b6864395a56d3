package mongo

import "strconv"

// Result is what Expand, Contract and Rollback did.
type Result struct {
	Database   string            `json:"database"`
	Migrations []MigrationResult `json:"migrations"`
}

// MigrationResult is one migration's outcome.
type MigrationResult struct {
	Name  string `json:"name"`
	Phase Phase  `json:"phase"`
	// Unchanged is true when the migration was already in the wanted phase.
	Unchanged bool       `json:"unchanged"`
	Backfill  []Progress `json:"backfill,omitempty"`
	Warnings  []string   `json:"warnings,omitempty"`
}

func resultOf(s *migState, phasePrefix string, unchanged bool) MigrationResult {
	mr := MigrationResult{Name: s.Name, Phase: s.Phase, Unchanged: unchanged, Warnings: s.Warnings}
	for i := range s.Migration.Operations {
		if p := s.Progress[phasePrefix+"_sync-"+strconv.Itoa(i)]; p != nil {
			mr.Backfill = append(mr.Backfill, *p)
		}
	}
	return mr
}
