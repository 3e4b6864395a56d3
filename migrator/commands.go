package migrator

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// splitCommands parses a golang-migrate MongoDB migration: a JSON array of
// database commands (MongoDB extended JSON), one Statement per command with
// the line it starts on. Statement.SQL holds the command's JSON text.
func splitCommands(body []byte) ([]Statement, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("1: want a JSON array of commands")
	}
	var out []Statement
	for dec.More() {
		off := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%d: %v", lineAt(body, off), err)
		}
		line := lineAt(body, off+firstNonSpace(body[off:]))
		var cmd bson.D
		if err := bson.UnmarshalExtJSON(raw, true, &cmd); err != nil {
			return nil, fmt.Errorf("%d: command %d: %v", line, len(out)+1, err)
		}
		out = append(out, Statement{Line: line, SQL: string(raw)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%d: %v", lineAt(body, int(dec.InputOffset())), err)
	}
	return out, nil
}

func lineAt(b []byte, off int) int { return 1 + bytes.Count(b[:min(off, len(b))], []byte("\n")) }

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' {
			return i
		}
	}
	return len(b)
}
