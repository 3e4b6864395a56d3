package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tidemark/tidemark/internal/dburl"
	"github.com/tidemark/tidemark/pitr"
	_ "github.com/tidemark/tidemark/pitr/all"
)

// snapshotFlags are the options shared by the snapshot subcommands.
type snapshotFlags struct {
	archiveDir string
}

func (a *app) snapshotCmd() *cobra.Command {
	f := &snapshotFlags{}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Pre-deploy restore points: create, list, verify, restore",
		Long: `Record a point the database can be restored to before a deploy (a PostgreSQL
restore point in the archived WAL on top of a base backup, a CockroachDB HLC
timestamp, a MongoDB operation time), optionally with copies of some tables or
collections, verify it is restorable, and restore it.`,
	}
	cmd.PersistentFlags().StringVar(&f.archiveDir, "archive-dir", "", "PostgreSQL WAL archive directory (default: read from archive_command)")
	cmd.AddCommand(a.snapshotCreateCmd(f), a.snapshotListCmd(f), a.snapshotVerifyCmd(f), a.snapshotRestoreCmd(f))
	return cmd
}

// openProvider opens the snapshot provider for --database.
func (a *app) openProvider(ctx context.Context, f *snapshotFlags) (pitr.Provider, error) {
	u, err := a.dbURL()
	if err != nil {
		return nil, err
	}
	return pitr.Open(ctx, u, pitr.Options{Logger: a.log, ArchiveDir: f.archiveDir})
}

type snapshotCreateFlags struct {
	label, baseBackup, backupDir, backupFormat, backupCommand, restoreCommand, manifestFile, tableDir string
	tables                                                                                            []string
	archiveTimeout                                                                                    time.Duration
	parallel                                                                                          int
}

func (a *app) snapshotCreateCmd(sf *snapshotFlags) *cobra.Command {
	f := &snapshotCreateFlags{}
	cmd := &cobra.Command{
		Use:   "create --label LABEL",
		Short: "Record a restore point (idempotent by label)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.snapshotCreate(cmd.Context(), sf, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.label, "label", "", "snapshot label, e.g. deploy-orders-<sha> (required)")
	fl.StringSliceVar(&f.tables, "tables", nil, "tables to copy into a snapshot schema (PostgreSQL, CockroachDB)")
	fl.StringSliceVar(&f.tables, "collections", nil, "collections to copy into a snapshot database (MongoDB)")
	fl.StringVar(&f.tableDir, "table-dir", "", "keep the table snapshot as COPY files in this directory instead of a snapshot schema (PostgreSQL), or the collections as .bson files in mongodump's layout instead of a snapshot database (MongoDB)")
	fl.StringVar(&f.baseBackup, "base-backup", "none", "who takes a base backup first: pg_basebackup, command, backup (CockroachDB BACKUP INTO --backup-dir) or none (use the latest recorded one)")
	fl.StringVar(&f.backupDir, "backup-dir", "", "directory tidemark manages for pg_basebackup backups")
	fl.StringVar(&f.backupFormat, "backup-format", "plain", "pg_basebackup format: plain or tar")
	fl.StringVar(&f.backupCommand, "backup-command", "", "backup command template ({label}, {dbname}, {host}, {port}, {user}, {dir}, {database})")
	fl.StringVar(&f.restoreCommand, "restore-command", "", restoreCommandUsage+"; recorded with the base backup for verify --drill and restore")
	fl.DurationVar(&f.archiveTimeout, "archive-timeout", 60*time.Second, "how long to wait for the marker's WAL segment to be archived")
	fl.IntVar(&f.parallel, "parallel", 4, "connections copying tables")
	fl.StringVar(&f.manifestFile, "manifest-file", "", "also write the manifest as JSON to this file")
	return cmd
}

func (a *app) snapshotCreate(ctx context.Context, sf *snapshotFlags, f *snapshotCreateFlags) error {
	p, err := a.openProvider(ctx, sf)
	if err != nil {
		return err
	}
	defer p.Close(ctx)
	m, err := p.Create(ctx, pitr.CreateOptions{Label: f.label, Tables: f.tables, TableDir: f.tableDir, BaseBackup: f.baseBackup,
		BackupDir: f.backupDir, BackupFormat: f.backupFormat, BackupCommand: f.backupCommand, RestoreCommand: f.restoreCommand, ArchiveWaitTimeout: f.archiveTimeout, Parallel: f.parallel})
	if err != nil {
		return err
	}
	if f.manifestFile != "" {
		if err := pitr.WriteManifestFile(f.manifestFile, m); err != nil {
			return err
		}
	}
	return a.render(m, func(w io.Writer) {
		if m.Existing {
			fmt.Fprintf(w, "snapshot %q already exists (created %s)\n", m.Label, m.CreatedAt.Format(time.RFC3339))
		} else {
			fmt.Fprintf(w, "snapshot %q created\n", m.Label)
		}
		writeManifest(w, m)
	})
}

const restoreCommandUsage = "command template that fills a new data directory from the base backup (PostgreSQL: pgBackRest, WAL-G, Barman): {dir}, {label}, {backup_id}, {restore_point}, {archive_dir}, {backup_dir}"

func writeManifest(w io.Writer, m *pitr.Manifest) {
	fmt.Fprintf(w, "  engine:    %s %s\n  database:  %s\n  created:   %s\n", m.Engine, m.ServerVersion, m.Database, m.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "  position:  %s\n", position(m.Position))
	if bb := m.BaseBackup; bb != nil {
		fmt.Fprintf(w, "  base backup: %s (%s) %s\n", bb.ID, bb.Method, bb.Dir+bb.Location)
		if bb.ToolID != "" {
			fmt.Fprintf(w, "  tool's backup id: %s\n", bb.ToolID)
		}
		if bb.RestoreCommand != "" {
			fmt.Fprintf(w, "  restore command: %s\n", dburl.Redact(bb.RestoreCommand))
		}
	}
	for _, t := range m.Tables {
		fmt.Fprintf(w, "  table:     %s -> %s  rows=%d checksum=%s\n", t.Name, t.Copy, t.Rows, t.Checksum)
	}
	for _, r := range m.Requirements {
		fmt.Fprintf(w, "  restore needs: %s\n", r)
	}
	for _, n := range m.Notes {
		fmt.Fprintf(w, "  note:      %s\n", n)
	}
}

func position(p pitr.Position) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("restore_point", p.RestorePoint)
	add("lsn", p.LSN)
	if p.Timeline > 0 {
		add("timeline", fmt.Sprint(p.Timeline))
	}
	add("wal", p.WALFile)
	add("hlc", p.HLC)
	if p.RestorableUntil != nil {
		add("restorable_until", p.RestorableUntil.Format(time.RFC3339))
	}
	add("operation_time", p.OperationTime)
	add("cluster_time", p.ClusterTime)
	add("marker", p.MarkerID)
	return strings.Join(parts, " ")
}

func (a *app) snapshotListCmd(sf *snapshotFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List recorded snapshots",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, err := a.openProvider(ctx, sf)
			if err != nil {
				return err
			}
			defer p.Close(ctx)
			ms, err := p.List(ctx)
			if err != nil {
				return err
			}
			return a.render(map[string]any{"snapshots": ms}, func(w io.Writer) {
				if len(ms) == 0 {
					fmt.Fprintln(w, "no snapshots")
				}
				for _, m := range ms {
					pending := ""
					if m.Pending() {
						pending = "\tpending: marker not archived (run the same create again)"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\ttables=%d%s\n", m.Label, m.CreatedAt.Format(time.RFC3339), position(m.Position), len(m.Tables), pending)
				}
			})
		},
	}
}
