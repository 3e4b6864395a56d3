package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

func TestProgressBarOnTerminal(t *testing.T) {
	var out bytes.Buffer
	cb := newProgress(&out, slog.New(slog.DiscardHandler), "users.email", true)
	cb(backfill.Progress{Rows: 450_000, Total: 1_000_000, RatePerSec: 85_000, ETA: 6500 * time.Millisecond})
	cb(backfill.Progress{Rows: 1_000_000, Total: 1_000_000, RatePerSec: 90_000, Done: true})
	got := out.String()
	for _, want := range []string{"users.email [=============>", " 45%", "450k/1.0M rows", "85k rows/s", "ETA 7s", "100%", "done\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output %q lacks %q", got, want)
		}
	}
}

func TestProgressLogsWhenNotATerminal(t *testing.T) {
	var out, logs bytes.Buffer
	cb := newProgress(&out, slog.New(slog.NewTextHandler(&logs, nil)), "orders", false)
	cb(backfill.Progress{Rows: 10, Total: 100, RatePerSec: 5, ETA: 18 * time.Second})
	cb(backfill.Progress{Rows: 20, Total: 100}) // within progressLogEvery: not logged
	cb(backfill.Progress{Rows: 100, Total: 100, Done: true})
	if out.Len() != 0 {
		t.Errorf("drew %q on a non-terminal", out.String())
	}
	got := logs.String()
	if strings.Count(got, "backfill progress") != 1 || !strings.Contains(got, "percent=10.0") ||
		!strings.Contains(got, "eta=18s") || !strings.Contains(got, `msg="backfill done" job=orders rows=100`) {
		t.Errorf("log lines:\n%s", got)
	}
}
