package deploy

import (
	"context"
	"errors"
	"time"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/internal/errkind"
	"github.com/tidemark/tidemark/pitr"
	_ "github.com/tidemark/tidemark/pitr/all" // every snapshot provider
)

// PITR is the Snapshotter backed by package pitr.
type PITR struct {
	Options pitr.Options
	// Create holds the base backup settings (BaseBackup, BackupDir,
	// BackupCommand, ArchiveWaitTimeout); Label and Tables are set per call.
	Create pitr.CreateOptions
}

var _ Snapshotter = PITR{}

func (p PITR) open(ctx context.Context, t *dburl.URL) (pitr.Provider, error) {
	return pitr.Open(ctx, t, p.Options)
}

// CreateSnapshot creates (or returns the existing) snapshot req.Label.
func (p PITR) CreateSnapshot(ctx context.Context, t *dburl.URL, req SnapshotRequest) (SnapshotInfo, error) {
	prov, err := p.open(ctx, t)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer prov.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	o := p.Create
	o.Label, o.Tables = req.Label, req.Tables
	if err := o.Validate(); err != nil {
		return SnapshotInfo{}, err
	}
	m, err := prov.Create(ctx, o)
	if err != nil {
		return SnapshotInfo{}, err
	}
	return manifestInfo(m), nil
}

// RestoreSnapshot restores the snapshot's table copies into the live
// database. A whole-cluster restore goes into a new data directory and needs
// a switch-over, so it is `tidemark snapshot restore`'s job, not a rollback's.
func (p PITR) RestoreSnapshot(ctx context.Context, t *dburl.URL, req RestoreRequest) (RestoreInfo, error) {
	label, tables := req.Label, req.Tables
	prov, err := p.open(ctx, t)
	if err != nil {
		return RestoreInfo{}, err
	}
	defer prov.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	m, err := prov.Get(ctx, label)
	if err != nil {
		return RestoreInfo{}, err
	}
	if len(m.Tables) == 0 {
		return RestoreInfo{}, errkind.Preconditionf("snapshot %s copied no tables, so it cannot be restored in place: restore the cluster with `tidemark snapshot restore %s --target-dir DIR` and switch over", label, label)
	}
	t0 := time.Now()
	r, err := prov.Restore(ctx, label, pitr.RestoreOptions{Tables: tables, AllTables: len(tables) == 0, DiscardNewer: req.DiscardNewer})
	if err != nil {
		return RestoreInfo{}, err
	}
	info := RestoreInfo{Label: label, Duration: time.Since(t0), Detail: r.Mode}
	for _, ts := range r.Tables {
		info.Tables = append(info.Tables, ts.Name)
	}
	return info, nil
}

// LastSnapshot returns the newest recorded snapshot, or nil.
func (p PITR) LastSnapshot(ctx context.Context, t *dburl.URL) (*SnapshotInfo, error) {
	prov, err := p.open(ctx, t)
	if errors.Is(err, pitr.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer prov.Close(context.WithoutCancel(ctx)) //nolint:errcheck
	ms, err := prov.List(ctx)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	info := manifestInfo(ms[len(ms)-1])
	return &info, nil
}

func manifestInfo(m *pitr.Manifest) SnapshotInfo {
	info := SnapshotInfo{Label: m.Label, CreatedAt: m.CreatedAt}
	switch {
	case m.Position.LSN != "":
		info.Position = "lsn " + m.Position.LSN
	case m.Position.HLC != "":
		info.Position = "hlc " + m.Position.HLC
	case m.Position.OperationTime != "":
		info.Position = "optime " + m.Position.OperationTime
	}
	for _, ts := range m.Tables {
		info.Tables = append(info.Tables, ts.Name)
	}
	info.Verified = m.Position.Archived || m.Position.HLC != "" || m.Position.OperationTime != ""
	return info
}
