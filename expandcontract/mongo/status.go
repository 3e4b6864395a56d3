package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/mongo"
)

// StatusReport is every expand/contract migration of one database.
type StatusReport struct {
	Database   string            `json:"database"`
	Migrations []MigrationStatus `json:"migrations"`
}

// MigrationStatus is one migration's phase and backfill progress.
type MigrationStatus struct {
	Name       string            `json:"name"`
	File       string            `json:"file"`
	Phase      Phase             `json:"phase"`
	InFlight   bool              `json:"in_flight"`
	Operations int               `json:"operations"`
	StepsDone  []string          `json:"steps_done"`
	Backfill   []Progress        `json:"backfill"`
	Validators []ValidatorStatus `json:"validators"`
	Warnings   []string          `json:"warnings,omitempty"`
	StartedAt  time.Time         `json:"started_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
}

// ValidatorStatus says whether the server enforces the validator tidemark
// set on a collection (FerretDB v1.24 does not: no collMod).
type ValidatorStatus struct {
	Collection string `json:"collection"`
	Enforced   bool   `json:"enforced"`
	// Applied is the validator tidemark last set, as extended JSON.
	Applied string `json:"applied,omitempty"`
}

// Status reads the state of db's migrations (no lock taken).
func Status(ctx context.Context, client *mongo.Client, db string) (*StatusReport, error) {
	st := &store{client: client, db: db}
	states, err := st.list(ctx)
	if err != nil {
		return nil, err
	}
	rep := &StatusReport{Database: db, Migrations: []MigrationStatus{}}
	for _, s := range states {
		rep.Migrations = append(rep.Migrations, statusOf(s))
	}
	return rep, nil
}

func statusOf(s *migState) MigrationStatus {
	ms := MigrationStatus{
		Name: s.Name, File: s.Migration.File, Phase: s.Phase, InFlight: s.Phase.inFlight(),
		Operations: len(s.Migration.Operations), StepsDone: s.Done, Warnings: s.Warnings,
		StartedAt: s.StartedAt, UpdatedAt: s.UpdatedAt, FinishedAt: s.FinishedAt,
		Backfill: []Progress{}, Validators: []ValidatorStatus{},
	}
	if ms.StepsDone == nil {
		ms.StepsDone = []string{}
	}
	for _, phase := range []string{"expand", "sync", "contract", "rollback"} {
		for i := range s.Migration.Operations {
			if p := s.Progress[fmt.Sprintf("%s_sync-%d", phase, i)]; p != nil {
				q := *p
				q.Action = phase + ":" + q.Action
				ms.Backfill = append(ms.Backfill, q)
			}
		}
	}
	for _, v := range s.Validators {
		vs := ValidatorStatus{Collection: v.Collection, Enforced: v.Enforced}
		if len(v.Applied) > 0 {
			vs.Applied = v.Applied
		}
		ms.Validators = append(ms.Validators, vs)
	}
	return ms
}
