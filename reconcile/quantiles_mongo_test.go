package reconcile

import "testing"

// The sampler of the MongoDB quantile read keeps at most 2*samplesPerRange
// keys per range however many it reads, and cuts within a twentieth of a
// range of the true quantiles; perRange raises the range count.
func TestKeySamplerBoundedAndEven(t *testing.T) {
	for _, c := range []struct {
		rows     int64
		n        int
		perRange int64
		ranges   int64
	}{{1, 8, 0, 0}, {7, 8, 0, 7}, {3000, 8, 0, 8}, {1_000_000, 8, 0, 8}, {1_000_000, 8, 5000, 200}} {
		s := &keySampler{n: c.n, perRange: c.perRange, step: 1}
		most := 0
		for ; s.seen < c.rows; s.seen++ {
			if s.seen%s.step == 0 {
				s.keep([]any{s.seen})
				most = max(most, len(s.kept))
			}
		}
		cuts := s.cuts()
		if int64(len(cuts)) != max(c.ranges-1, 0) {
			t.Errorf("%d rows into %d ranges: %d cuts", c.rows, c.ranges, len(cuts))
		}
		if limit := 2*samplesPerRange*max(c.ranges, 1) + 1; int64(most) > limit {
			t.Errorf("%d rows: held %d keys, limit %d", c.rows, most, limit)
		}
		for i, cut := range cuts {
			want := float64(i+1) * float64(c.rows) / float64(c.ranges)
			if got := float64(cut[0].(int64)); got < want-float64(c.rows)/float64(c.ranges)/20-1 || got > want+float64(c.rows)/float64(c.ranges)/20+1 {
				t.Errorf("%d rows: cut %d at %v, want about %.0f", c.rows, i+1, got, want)
			}
		}
	}
}
