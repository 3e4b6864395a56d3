package integration

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoStory runs `make demo`'s program: the whole story on its own
// throwaway PostgreSQL cluster and FerretDB, with the real binary.
func TestDemoStory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	report := filepath.Join(t.TempDir(), "report.html")
	cmd := exec.CommandContext(ctx, bin.demo, "-tidemark", bin.tidemark, "-report", report, "-orders", "1000")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	t.Logf("demo took %s", time.Since(t0).Round(time.Millisecond))
	text := out.String()
	for _, want := range []string{
		"deploy started: orders release v2",
		"search_path=public_orders_split_amount",
		"v2 sees", "both shapes",
		"expand-rollback  done",
		"data: INCONSISTENT",
		"→ exit 4",
		"pending_orders_have_payment",
		"refunds_once",
		"applied         paid_orders_captured duplicate",
		": clean, 0 in flight",
		"independent consistency check agrees: 0 breaks",
		"orders               v2           rolled_back",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	if strings.Contains(text, "tm-secret-pw") {
		t.Error("demo output shows a password")
	}
	html, err := os.ReadFile(report)
	if err != nil || !bytes.Contains(html, []byte("paid_orders_captured")) {
		t.Errorf("HTML report: %v (%d bytes)", err, len(html))
	}
	if t.Failed() {
		t.Log(text)
	}
}
