package deploy

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Metrics collects the Events of deploy runs and renders them in the
// Prometheus text exposition format (for a node_exporter textfile
// collector, or a Pushgateway). Pass Observe as Deployer.Events.
type Metrics struct {
	mu      sync.Mutex
	samples map[string]map[string]float64 // metric -> labels -> value
}

// NewMetrics returns an empty collector.
func NewMetrics() *Metrics { return &Metrics{samples: map[string]map[string]float64{}} }

var metricHelp = map[string]string{
	"tidemark_deploy_step_duration_seconds":      "gauge|Duration of the last run of each deploy step.",
	"tidemark_deploy_step_success":               "gauge|1 when the step's last run succeeded or was skipped, 0 when it failed.",
	"tidemark_deploy_phase":                      "gauge|The step each service's verb reached last (1 for that step).",
	"tidemark_deploy_last_step_timestamp":        "gauge|Unix time of the last step of each verb.",
	"tidemark_deploy_backfill_rows":              "gauge|Rows backfilled by the expand step.",
	"tidemark_deploy_backfill_total_rows":        "gauge|Rows to backfill in the expand step.",
	"tidemark_deploy_reconcile_breaks":           "gauge|Breaks found by the reconcile check after a rollback.",
	"tidemark_deploy_reconcile_in_flight":        "gauge|Rows in flight (changed during the check) after a rollback.",
	"tidemark_deploy_reconcile_invariant_breaks": "gauge|Breaks per invariant found after a rollback.",
}

// Observe records one event.
func (m *Metrics) Observe(e Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	svc := labels("service", e.Service, "verb", e.Verb)
	switch {
	case e.Expand != nil:
		m.set("tidemark_deploy_backfill_rows", labels("service", e.Service), float64(e.Expand.BackfillRows))
		m.set("tidemark_deploy_backfill_total_rows", labels("service", e.Service), float64(e.Expand.BackfillTotal))
	case e.Reconcile != nil:
		m.set("tidemark_deploy_reconcile_breaks", labels("service", e.Service), float64(e.Reconcile.Breaks))
		m.set("tidemark_deploy_reconcile_in_flight", labels("service", e.Service), float64(e.Reconcile.InFlight))
		for inv, n := range e.Reconcile.ByInvariant {
			m.set("tidemark_deploy_reconcile_invariant_breaks", labels("service", e.Service, "invariant", inv), float64(n))
		}
	default:
		step := labels("service", e.Service, "verb", e.Verb, "step", e.Step.Name)
		m.set("tidemark_deploy_step_duration_seconds", step, e.Step.Duration.Seconds())
		ok := 1.0
		if e.Step.Status == StepFailed {
			ok = 0
		}
		m.set("tidemark_deploy_step_success", step, ok)
		for k := range m.samples["tidemark_deploy_phase"] {
			if strings.HasPrefix(k, svc[:len(svc)-1]+",") {
				delete(m.samples["tidemark_deploy_phase"], k)
			}
		}
		m.set("tidemark_deploy_phase", step, 1)
		m.set("tidemark_deploy_last_step_timestamp", svc, float64(e.At.Unix()))
	}
}

func (m *Metrics) set(name, lbls string, v float64) {
	if m.samples[name] == nil {
		m.samples[name] = map[string]float64{}
	}
	m.samples[name][lbls] = v
}

// Text renders every metric in the Prometheus text format, sorted.
func (m *Metrics) Text() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make([]string, 0, len(m.samples))
	for n := range m.samples {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		typ, help, _ := strings.Cut(metricHelp[n], "|")
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", n, help, n, typ)
		keys := make([]string, 0, len(m.samples[n]))
		for k := range m.samples[n] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s%s %g\n", n, k, m.samples[n][k])
		}
	}
	return b.String()
}

// labels renders {k="v",...}.
func labels(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%s=%q", kv[i], kv[i+1])) // %q escapes \, " and newlines as Prometheus does
	}
	return "{" + strings.Join(parts, ",") + "}"
}
