package mongo

import (
	"errors"
	"strings"
	"testing"

	"github.com/tidemark/tidemark/internal/errkind"
)

func TestParse(t *testing.T) {
	m, err := Parse(strings.NewReader(`{"operations": [{"rename_field": {"collection": "c", "from": "a", "to": "b"}},
 {"create_index": {"collection": "c", "name": "i", "keys": ["b"], "unique": true}}]}`), "dir/002_rename.json")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "002_rename" || len(m.Operations) != 2 || m.Operations[1].Keys[0].Key != "b" || !m.Operations[1].Unique {
		t.Errorf("parsed %+v", m)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"operations:\n  - add_field: {collection: c}\n", "f.yaml:2: add_field: field is required"},
		{"operations:\n  - nope: {collection: c}\n", `f.yaml:2: unknown operation "nope"`},
		{"operations:\n  - change_field:\n      collection: c\n      field: a\n      up: 1\n      down: 1\n", "f.yaml:2: change_field: to (the new field"},
		{"operations:\n  - add_field:\n      collection: c\n      field: x\n      up: {$sqrt: \"$a\"}\n", "f.yaml:2: add_field: operator $sqrt is not supported"},
		{"operations:\n  - rename_field: {collection: c, from: a.b, to: c}\n", "top-level fields only"},
		{"name: x\nops: []\n", `f.yaml:2: unknown key "ops"`},
		{"operations: [\n", "f.yaml"},
	} {
		_, err := Parse(strings.NewReader(tc.src), "f.yaml")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, errkind.ErrUsage) {
			t.Errorf("%q: error %v, want %q (usage)", tc.src, err, tc.want)
		}
	}
}
