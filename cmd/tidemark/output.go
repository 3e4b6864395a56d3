package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/tidemark/tidemark/internal/dburl"
)

// render writes a command's result: exactly one JSON document on stdout with
// --output json, else the human text (to stdout) written by text.
func (a *app) render(v any, text func(w io.Writer)) error {
	if a.output == "json" {
		a.rendered = true
		return writeJSON(a.stdout, v)
	}
	var b strings.Builder
	text(&b)
	_, err := io.WriteString(a.stdout, dburl.Redact(b.String()))
	return err
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	_, err = fmt.Fprintln(w, dburl.Redact(string(b)))
	return err
}

// logHandler is a text slog handler that redacts passwords in every record.
type logHandler struct{ slog.Handler }

func newLogHandler(w io.Writer, lvl slog.Level) slog.Handler {
	return logHandler{slog.NewTextHandler(redactWriter{w}, &slog.HandlerOptions{Level: lvl})}
}

func (h logHandler) Handle(ctx context.Context, r slog.Record) error { return h.Handler.Handle(ctx, r) }

type redactWriter struct{ w io.Writer }

func (r redactWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, dburl.Redact(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
