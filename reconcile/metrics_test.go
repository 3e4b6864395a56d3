package reconcile

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	return &Report{Rules: "shop.yaml", FinishedAt: time.Unix(1700000000, 0), Duration: 1.5,
		Counts: []*Counts{{Invariant: "order_amounts", Kind: KindMatch, LeftRows: 10, RightRows: 9,
			Breaks: map[string]int{BreakMismatch: 2}, BreaksTotal: 2, InFlight: 1}},
		Breaks: []*Break{{Invariant: "order_amounts", Kind: BreakMismatch, Key: "7", Diffs: []FieldDiff{{Field: "amount", Left: 700, Right: 800}}}}}
}

func TestMetricsTextAndPushgateway(t *testing.T) {
	var buf bytes.Buffer
	sampleReport().WriteMetrics(&buf)
	for _, want := range []string{
		`tidemark_reconcile_breaks{invariant="order_amounts",kind="mismatch"} 2`,
		`tidemark_reconcile_breaks{invariant="order_amounts",kind="duplicate"} 0`,
		`tidemark_reconcile_in_flight{invariant="order_amounts"} 1`,
		`tidemark_reconcile_rows_compared{invariant="order_amounts"} 19`,
		`tidemark_reconcile_duration_seconds 1.5`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, buf.String())
		}
	}
	var gotPath, gotMethod, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		gotPath, gotMethod, gotBody = r.URL.Path, r.Method, string(b)
	}))
	defer srv.Close()
	if err := sampleReport().PushMetrics(context.Background(), srv.URL+"/", "nightly recon"); err != nil {
		t.Fatal(err)
	}
	if gotMethod != http.MethodPut || gotPath != "/metrics/job/nightly recon" || gotBody != buf.String() {
		t.Errorf("push: %s %s\n%s", gotMethod, gotPath, gotBody)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", 400) }))
	defer bad.Close()
	if err := sampleReport().PushMetrics(context.Background(), bad.URL, "j"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("push to a failing gateway: %v", err)
	}
}

func TestMarkdownAndHTMLShowSummaryAndSamples(t *testing.T) {
	var md, html bytes.Buffer
	r := sampleReport()
	r.WriteMarkdown(&md)
	if err := r.WriteHTML(&html); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| order_amounts | match | 10 | 9 | 2 (mismatch 2) | 1 |", "| mismatch | `7` | amount: 700 != 800 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	for _, want := range []string{"<!DOCTYPE html>", "Broken: 1 break(s)", "<td>order_amounts</td>", "amount: 700 != 800"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if strings.Contains(html.String(), "<script") || strings.Contains(html.String(), "http") {
		t.Error("html is not self-contained")
	}
}
