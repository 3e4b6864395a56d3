package mongo

import (
	"fmt"
	"slices"
	"strings"
)

// specFor returns the sync spec of operation i, or nil when the operation
// has nothing to keep in step (indexes, drop_field without down).
func specFor(m *Migration, i int) *syncSpec {
	op := m.Operations[i]
	s := &syncSpec{ID: fmt.Sprintf("sync-%d", i), Key: stampKey(m.Name, i), Collection: op.Collection}
	switch op.Kind {
	case AddField:
		s.Up = op.Up
		if s.Up == nil {
			s.Up = bsonLiteral(op.Default)
		}
		s.OldSide = without(fieldRefs(s.Up), op.Field)
		s.NewSide, s.UpTarget = []string{op.Field}, op.Field
	case RenameField:
		s.OldSide, s.NewSide = []string{op.From}, []string{op.To}
		s.UpTarget, s.Up = op.To, "$"+op.From
		s.DownTarget, s.Down = op.From, "$"+op.To
	case ChangeField:
		s.OldSide, s.NewSide = []string{op.Field}, []string{op.To}
		s.UpTarget, s.Up = op.To, op.Up
		s.DownTarget, s.Down = op.Field, op.Down
	case DropField:
		if op.Down == nil {
			return nil
		}
		s.OldSide = []string{op.Field}
		s.NewSide = without(fieldRefs(op.Down), op.Field)
		s.DownTarget, s.Down = op.Field, op.Down
	default:
		return nil
	}
	return s
}

// stampKey names the per-document sync stamp of operation i.
func stampKey(migration string, i int) string {
	return fmt.Sprintf("_tidemark_%s_%d", strings.ReplaceAll(migration, ".", "_"), i)
}

// oldFields are the fields contract removes; newFields those rollback removes.
func oldFields(op Operation) []string {
	switch op.Kind {
	case RenameField:
		return []string{op.From}
	case ChangeField, DropField:
		return []string{op.Field}
	}
	return nil
}

func newFields(op Operation) []string {
	switch op.Kind {
	case AddField, ChangeField:
		if op.Kind == AddField {
			return []string{op.Field}
		}
		return []string{op.To}
	case RenameField:
		return []string{op.To}
	}
	return nil
}

// collections lists the collections whose documents change shape.
func (m *Migration) collections() []string {
	var out []string
	for _, op := range m.Operations {
		if op.Kind != CreateIndex && op.Kind != DropIndex && !slices.Contains(out, op.Collection) {
			out = append(out, op.Collection)
		}
	}
	return out
}

func (m *Migration) opsOn(coll string) []Operation {
	var out []Operation
	for _, op := range m.Operations {
		if op.Collection == coll {
			out = append(out, op)
		}
	}
	return out
}

func without(list []string, drop string) []string {
	var out []string
	for _, f := range list {
		if f != drop && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
