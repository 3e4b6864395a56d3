package reconcile

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

// sampleSize is how many breaks per invariant the Markdown and HTML show.
const sampleSize = 10

// WriteText writes the human report.
func (r *Report) WriteText(w io.Writer) {
	status := "clean"
	if r.Broken() {
		status = fmt.Sprintf("BROKEN: %d break(s)", len(r.Breaks))
	}
	fmt.Fprintf(w, "reconcile %s: %s, %d in flight, %d rows compared in %.1fs\n", r.Rules, status, len(r.InFlight), r.RowsCompared(), r.Duration)
	for _, c := range r.Counts {
		fmt.Fprintf(w, "  %-32s %-10s left %d rows, right %d rows: %d break(s)%s, %d in flight%s\n",
			c.Invariant, c.Kind, c.LeftRows, c.RightRows, c.BreaksTotal, kindsString(c.Breaks), c.InFlight, c.checksumString())
	}
	for _, b := range r.Breaks {
		fmt.Fprintf(w, "  BREAK %s %s %s%s\n", b.Invariant, b.Kind, b.Key, diffsString(b.Diffs))
	}
	for _, b := range r.InFlight {
		fmt.Fprintf(w, "  in flight %s %s %s: %s\n", b.Invariant, b.Kind, b.Key, b.Reason)
	}
}

// checksumString tells how many ranges checksums spared, and where they
// were computed.
func (c *Counts) checksumString() string {
	if c.Checksums == "" || c.Checksums == "off" {
		return ""
	}
	return fmt.Sprintf("; %d of %d ranges equal by checksum (%s)", c.RangesSkipped, c.Ranges, c.Checksums)
}

func kindsString(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func diffsString(ds []FieldDiff) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s: %v != %v", d.Field, d.Left, d.Right))
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, "; ")
}

// samples groups up to sampleSize breaks per invariant, in rule order.
func (r *Report) samples() []sampleGroup {
	var out []sampleGroup
	for _, c := range r.Counts {
		g := sampleGroup{Counts: c}
		for _, b := range r.Breaks {
			if b.Invariant == c.Invariant && len(g.Breaks) < sampleSize {
				g.Breaks = append(g.Breaks, b)
			}
		}
		if len(g.Breaks) > 0 {
			out = append(out, g)
		}
	}
	return out
}

type sampleGroup struct {
	Counts *Counts
	Breaks []*Break
}

// WriteMarkdown writes the report for a ticket or pull request.
func (r *Report) WriteMarkdown(w io.Writer) {
	status := "clean"
	if r.Broken() {
		status = fmt.Sprintf("**broken: %d break(s)**", len(r.Breaks))
	}
	fmt.Fprintf(w, "# Reconciliation report: %s\n\n", r.Rules)
	fmt.Fprintf(w, "Status: %s, %d in flight, %d rows compared in %.1fs (run %s, %s).\n\n", status, len(r.InFlight), r.RowsCompared(), r.Duration, r.RunID, r.StartedAt.Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(w, "| invariant | kind | left rows | right rows | breaks | in flight |\n|---|---|---:|---:|---:|---:|\n")
	for _, c := range r.Counts {
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d%s | %d |\n", c.Invariant, c.Kind, c.LeftRows, c.RightRows, c.BreaksTotal, kindsString(c.Breaks), c.InFlight)
	}
	for _, g := range r.samples() {
		fmt.Fprintf(w, "\n## %s (%d break(s), first %d)\n\n| kind | key | details |\n|---|---|---|\n", g.Counts.Invariant, g.Counts.BreaksTotal, len(g.Breaks))
		for _, b := range g.Breaks {
			fmt.Fprintf(w, "| %s | `%s` | %s |\n", b.Kind, b.Key, strings.ReplaceAll(strings.TrimPrefix(diffsString(b.Diffs), ": "), "|", "\\|"))
		}
	}
	if len(r.InFlight) > 0 {
		fmt.Fprintf(w, "\n## In flight (rows changed during the run; not breaks)\n\n")
		for _, b := range r.InFlight {
			fmt.Fprintf(w, "- %s %s `%s`: %s\n", b.Invariant, b.Kind, b.Key, b.Reason)
		}
	}
}

var htmlPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"json":  func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"kinds": kindsString, "diffs": func(d []FieldDiff) string { return strings.TrimPrefix(diffsString(d), ": ") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation report: {{.R.Rules}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}.broken{color:#b00020;font-weight:bold}.clean{color:#1b7f3b;font-weight:bold}
code{background:#f6f6f6;padding:1px 3px}td.n{text-align:right}
</style></head><body>
<h1>Reconciliation report</h1>
<p>Rules <code>{{.R.Rules}}</code>, run <code>{{.R.RunID}}</code>, started {{.R.StartedAt.Format "2006-01-02 15:04:05 UTC"}}, {{printf "%.1f" .R.Duration}}s, {{.R.RowsCompared}} rows compared.</p>
<p>{{if .R.Broken}}<span class="broken">Broken: {{len .R.Breaks}} break(s)</span>{{else}}<span class="clean">Clean</span>{{end}}, {{len .R.InFlight}} in flight.</p>
<h2>Invariants</h2>
<table><tr><th>invariant</th><th>kind</th><th>left rows</th><th>right rows</th><th>breaks</th><th>in flight</th></tr>
{{range .R.Counts}}<tr><td>{{.Invariant}}</td><td>{{.Kind}}</td><td class="n">{{.LeftRows}}</td><td class="n">{{.RightRows}}</td><td class="n">{{.BreaksTotal}}{{kinds .Breaks}}</td><td class="n">{{.InFlight}}</td></tr>
{{end}}</table>
{{range .Samples}}<h2>{{.Counts.Invariant}}: {{.Counts.BreaksTotal}} break(s){{if lt (len .Breaks) .Counts.BreaksTotal}}, first {{len .Breaks}}{{end}}</h2>
<table><tr><th>kind</th><th>key</th><th>differences</th><th>left</th><th>right</th></tr>
{{range .Breaks}}<tr><td>{{.Kind}}</td><td><code>{{.Key}}</code></td><td>{{diffs .Diffs}}</td><td><code>{{if .Left}}{{json .Left}}{{end}}</code></td><td><code>{{if .Right}}{{json .Right}}{{else if .Aggregate}}{{.Aggregate}}{{end}}</code></td></tr>
{{end}}</table>
{{end}}{{if .R.InFlight}}<h2>In flight</h2><ul>{{range .R.InFlight}}<li>{{.Invariant}} {{.Kind}} <code>{{.Key}}</code>: {{.Reason}}</li>{{end}}</ul>{{end}}
</body></html>
`))

// WriteHTML writes a self-contained HTML page: summary, counts per
// invariant, and a sample of each invariant's breaks.
func (r *Report) WriteHTML(w io.Writer) error {
	return htmlPage.Execute(w, map[string]any{"R": r, "Samples": r.samples()})
}

// WriteMetrics writes Prometheus text-format metrics of the run.
func (r *Report) WriteMetrics(w io.Writer) {
	fmt.Fprintf(w, "# HELP tidemark_reconcile_breaks Broken invariant instances found by the last run.\n# TYPE tidemark_reconcile_breaks gauge\n")
	for _, c := range r.Counts {
		kinds := BreakKinds(c.Kind)
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(w, "tidemark_reconcile_breaks{invariant=%q,kind=%q} %d\n", c.Invariant, k, c.Breaks[k])
		}
	}
	fmt.Fprintf(w, "# HELP tidemark_reconcile_in_flight Differences whose rows changed during the run.\n# TYPE tidemark_reconcile_in_flight gauge\n")
	for _, c := range r.Counts {
		fmt.Fprintf(w, "tidemark_reconcile_in_flight{invariant=%q} %d\n", c.Invariant, c.InFlight)
	}
	fmt.Fprintf(w, "# HELP tidemark_reconcile_rows_compared Rows read on both sides.\n# TYPE tidemark_reconcile_rows_compared gauge\n")
	for _, c := range r.Counts {
		fmt.Fprintf(w, "tidemark_reconcile_rows_compared{invariant=%q} %d\n", c.Invariant, c.LeftRows+c.RightRows)
	}
	fmt.Fprintf(w, "# HELP tidemark_reconcile_duration_seconds Duration of the last run.\n# TYPE tidemark_reconcile_duration_seconds gauge\ntidemark_reconcile_duration_seconds %g\n", r.Duration)
	fmt.Fprintf(w, "# HELP tidemark_reconcile_last_run_timestamp_seconds End of the last run.\n# TYPE tidemark_reconcile_last_run_timestamp_seconds gauge\ntidemark_reconcile_last_run_timestamp_seconds %d\n", r.FinishedAt.Unix())
}
