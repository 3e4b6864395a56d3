package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tidemark/tidemark/expandcontract/backfill"
)

// progressLogEvery is how often progress is logged when stderr is no terminal.
const progressLogEvery = 5 * time.Second

// backfillProgress returns an OnProgress callback for a backfill named label:
// a bar redrawn in place on stderr when stderr is a terminal, else a log line
// every few seconds and one at the end.
func (a *app) backfillProgress(label string) func(backfill.Progress) {
	return newProgress(a.stderr, a.log, label, isTerminal(a.stderr))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func newProgress(w io.Writer, log *slog.Logger, label string, terminal bool) func(backfill.Progress) {
	var mu sync.Mutex
	var last time.Time
	return func(p backfill.Progress) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if terminal {
			if p.Done || now.Sub(last) >= 100*time.Millisecond {
				last = now
				end := ""
				if p.Done {
					end = "\n"
				}
				fmt.Fprintf(w, "\r\033[K%s%s", progressBar(label, p, 30), end)
			}
			return
		}
		if p.Done || now.Sub(last) >= progressLogEvery {
			last = now
			logProgress(log, label, p)
		}
	}
}

func logProgress(log *slog.Logger, label string, p backfill.Progress) {
	if p.Done {
		log.Info("backfill done", "job", label, "rows", p.Rows)
		return
	}
	log.Info("backfill progress", "job", label, "rows", p.Rows, "total", p.Total,
		"percent", fmt.Sprintf("%.1f", percent(p)), "rows_per_sec", int64(p.RatePerSec),
		"eta", p.ETA.Round(time.Second).String())
}

func percent(p backfill.Progress) float64 {
	if p.Done {
		return 100
	}
	if p.Total <= 0 {
		return 0
	}
	return min(100, 100*float64(p.Rows)/float64(p.Total))
}

// progressBar renders one line: label [=====>     ]  45%  450k/1.0M rows  85k rows/s  ETA 6s.
func progressBar(label string, p backfill.Progress, width int) string {
	pc := percent(p)
	filled := int(pc / 100 * float64(width))
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	s := fmt.Sprintf("%s [%s] %3.0f%%  %s/%s rows  %s rows/s", label, bar, pc,
		humanCount(float64(p.Rows)), humanCount(float64(p.Total)), humanCount(p.RatePerSec))
	if p.Done {
		return s + "  done"
	}
	if p.ETA > 0 {
		s += "  ETA " + p.ETA.Round(time.Second).String()
	}
	return s
}

func humanCount(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.1fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
