package reconcile

import (
	"context"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"
)

// quantileBatch is how many keys one batch of the quantile read holds.
const quantileBatch = 5000

// Quantiles cuts a MongoDB source at real key quantiles in one sorted read
// of its key fields only (FerretDB has no $sample). Memory stays bounded
// by the number of ranges: keySampler keeps keys at equal steps and
// doubles the step when it holds too many. When the stored key types
// cannot be bounded (see mongoKeyTypes) there are no cuts: one range.
func (r *mongoReader) Quantiles(ctx context.Context, n int, perRange int64) ([][]any, int64, error) {
	kt, err := r.storedKeyTypes(ctx)
	if err != nil || !kt.bounded {
		return nil, -1, r.quantileErr(err)
	}
	cur, err := r.keyCursor(ctx, nil, true, 0, quantileBatch)
	if err != nil {
		return nil, 0, r.quantileErr(err)
	}
	defer cur.Close(ctx)
	s := &keySampler{n: n, perRange: perRange, step: 1}
	for cur.Next(ctx) {
		if s.seen%s.step == 0 {
			key, err := r.keyVals(cur.Current)
			if err != nil {
				return nil, 0, r.quantileErr(err)
			}
			s.keep(key)
		}
		s.seen++
	}
	if err := cur.Err(); err != nil {
		return nil, 0, r.quantileErr(err)
	}
	cuts := s.cuts()
	sortCuts(r.src.Key, cuts)
	return cuts, s.seen, nil
}

func (r *mongoReader) quantileErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("source %s: quantiles: %w", r.src.Name, err)
}

// keyVals returns the canonical key values of a document.
func (r *mongoReader) keyVals(doc bson.Raw) ([]any, error) {
	out := make([]any, len(r.src.Key))
	for i, k := range r.src.Key {
		v, err := doc.LookupErr(strings.Split(k.Name, ".")...)
		if err != nil {
			return nil, fmt.Errorf("a document has no key field %q", k.Name)
		}
		if out[i], err = keyValue(k.Type, bsonValue(v)); err != nil {
			return nil, fmt.Errorf("key column %s: %w", k.Name, err)
		}
	}
	return out, nil
}

// keySampler keeps the keys at positions 0, step, 2*step, ... of a sorted
// read; when it holds more than 2*samplesPerRange keys per range it needs,
// it drops every other key and doubles the step (so a cut is within a
// twentieth of a range of its quantile).
type keySampler struct {
	n        int
	perRange int64
	seen     int64 // keys read
	step     int64
	kept     [][]any
}

// ranges is how many ranges the keys read so far need.
func (s *keySampler) ranges() int64 {
	n := int64(s.n)
	if s.perRange > 0 {
		n = max(n, s.seen/s.perRange)
	}
	return n
}

func (s *keySampler) keep(key []any) {
	s.kept = append(s.kept, key)
	if int64(len(s.kept)) <= 2*samplesPerRange*max(s.ranges(), 1) {
		return
	}
	half := s.kept[:0]
	for i := 0; i < len(s.kept); i += 2 {
		half = append(half, s.kept[i])
	}
	clear(s.kept[len(half):])
	s.kept, s.step = half, 2*s.step
}

// cuts returns up to ranges()-1 kept keys at equal row-count steps.
func (s *keySampler) cuts() [][]any {
	n := s.ranges()
	if n <= 1 || s.seen < 2 {
		return nil
	}
	var out [][]any
	last := 0
	for i := int64(1); i < n; i++ {
		j := int((i*s.seen/n + s.step/2) / s.step)
		if j <= last || j >= len(s.kept) {
			continue
		}
		out, last = append(out, s.kept[j]), j
	}
	return out
}
