package reconcile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// PushMetrics replaces the metrics of job on a Prometheus Pushgateway
// (PUT {gateway}/metrics/job/{job}).
func (r *Report) PushMetrics(ctx context.Context, gateway, job string) error {
	var body bytes.Buffer
	r.WriteMetrics(&body)
	u := strings.TrimRight(gateway, "/") + "/metrics/job/" + url.PathEscape(job)
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, &body)
	if err != nil {
		return fmt.Errorf("pushgateway: %w", err)
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("pushgateway: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("pushgateway: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
