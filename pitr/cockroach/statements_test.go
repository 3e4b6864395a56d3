package cockroach

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestStatementsGolden pins every statement the provider runs.
func TestStatementsGolden(t *testing.T) {
	const hlc = "1700000000123456789.0000000002"
	cases := map[string]string{
		"marker":         MarkerSQL(),
		"version":        VersionSQL(),
		"zone_config":    ZoneConfigSQL(`shop"db`),
		"backup":         BackupSQL("shop", "nodelocal://1/tidemark", hlc),
		"job_status":     JobStatusSQL(),
		"show_backup":    ShowBackupSQL("s3://bucket/it's?AUTH=implicit"),
		"restore":        RestoreSQL("shop", "nodelocal://1/tidemark", hlc, "tmrestore_deploy_1_abcd"),
		"rename":         RenameSQL("shop", "shop_before_restore_20260101000000"),
		"use":            UseSQL("system"),
		"columns":        ColumnsSQL(),
		"checksum_as_of": ChecksumSQL("public", "orders", []string{"id", "total", "Note"}, hlc),
		"checksum_now":   ChecksumSQL("public", "order_lines", []string{"order_id", "sku"}, ""),
	}
	for name, got := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(want) != got+"\n" {
				t.Errorf("statement changed:\n got: %s\nwant: %s", got, want)
			}
		})
	}
}
