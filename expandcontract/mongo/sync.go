package mongo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// syncSpec keeps an operation's old-shape and new-shape fields in step: up
// writes upTarget from the old side, down writes downTarget from the new
// side. A per-document stamp (field key) records hashes of both sides as
// last synced, so a later pass can tell which side a writer changed.
type syncSpec struct {
	ID         string // stable action ID: "sync:<op index>"
	Key        string // stamp field: _tidemark_<migration>_<op index>
	Collection string
	OldSide    []string
	NewSide    []string
	UpTarget   string
	Up         any
	DownTarget string
	Down       any
}

func (s *syncSpec) String() string {
	var parts []string
	if s.UpTarget != "" {
		parts = append(parts, fmt.Sprintf("%s = up(%s)", s.UpTarget, strings.Join(s.OldSide, ", ")))
	}
	if s.DownTarget != "" {
		parts = append(parts, fmt.Sprintf("%s = down(%s)", s.DownTarget, strings.Join(s.NewSide, ", ")))
	}
	return s.Collection + ": " + strings.Join(parts, "; ")
}

// fields lists every top-level field the spec reads or writes (projection).
func (s *syncSpec) fields() []string {
	var out []string
	add := func(fs ...string) {
		for _, f := range fs {
			top := strings.SplitN(f, ".", 2)[0]
			if top != "" && !slices.Contains(out, top) {
				out = append(out, top)
			}
		}
	}
	add(s.OldSide...)
	add(s.NewSide...)
	add(s.UpTarget, s.DownTarget, s.Key)
	add(fieldRefs(s.Up)...)
	add(fieldRefs(s.Down)...)
	return out
}

// stamp is the synced state of one document.
type stamp struct {
	O string `bson:"o"`
	N string `bson:"n"`
}

// decision says what one document needs.
type decision int

const (
	skip decision = iota
	writeStamp
	runUp
	runDown
)

// sideHash hashes the values of fields in doc (missing fields included).
func sideHash(doc bson.Raw, fields []string) string {
	h := sha256.New()
	for _, f := range fields {
		rv, err := doc.LookupErr(strings.Split(f, ".")...)
		if err != nil {
			h.Write([]byte{0})
			continue
		}
		h.Write([]byte{byte(rv.Type)})
		h.Write(rv.Value)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func present(doc bson.Raw, fields []string) bool {
	for _, f := range fields {
		if _, err := doc.LookupErr(strings.Split(f, ".")...); err != nil {
			return false
		}
	}
	return true
}

func readStamp(doc bson.Raw, key string) (stamp, bool) {
	rv, err := doc.LookupErr(key)
	if err != nil {
		return stamp{}, false
	}
	var s stamp
	if rv.Unmarshal(&s) != nil || s.O == "" {
		return stamp{}, false
	}
	return s, true
}

// decide compares a document with its stamp. Without a stamp a side that is
// missing is computed from the other; with one, the side a writer changed
// since the last sync wins. When both changed, or both exist unstamped and
// disagree, the new shape wins (down), as the new version is the one going
// forward; a spec without down keeps both and restamps.
func (s *syncSpec) decide(doc bson.Raw) (decision, error) {
	oldP, newP := present(doc, s.OldSide), present(doc, s.NewSide)
	st, stamped := readStamp(doc, s.Key)
	oChanged, nChanged := true, true
	if stamped {
		oChanged = st.O != sideHash(doc, s.OldSide)
		nChanged = st.N != sideHash(doc, s.NewSide)
		if !oChanged && !nChanged {
			return skip, nil
		}
	}
	switch {
	case !oldP && !newP:
		return skip, nil
	case !stamped && oldP && !newP, stamped && oChanged && !nChanged && oldP:
		return s.pick(runUp), nil
	case !stamped && newP && !oldP, stamped && nChanged && !oChanged && newP:
		return s.pick(runDown), nil
	}
	if s.Up != nil && s.Down != nil {
		ok, err := s.consistent(doc)
		if err != nil || ok {
			return writeStamp, err
		}
		return runDown, nil
	}
	return writeStamp, nil
}

func (s *syncSpec) pick(d decision) decision {
	if d == runUp && s.Up == nil || d == runDown && s.Down == nil {
		return writeStamp
	}
	return d
}

// consistent reports whether the new side already equals up(old side).
func (s *syncSpec) consistent(doc bson.Raw) (bool, error) {
	v, err := eval(s.Up, doc)
	if err != nil {
		return false, err
	}
	cur := lookup(doc, s.UpTarget)
	a, _ := marshalValue(v)
	b, _ := marshalValue(cur)
	return a.Equal(b), nil
}

func marshalValue(v any) (bson.RawValue, error) {
	if v == missing {
		return bson.RawValue{}, nil
	}
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return bson.RawValue{}, err
	}
	return bson.RawValue{Type: t, Value: data}, nil
}
