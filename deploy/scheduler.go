package deploy

import (
	"context"
	"sort"
	"strings"
)

// scheduler runs one job per service, respecting waitsFor, priorities and
// the parallelism bound.
type scheduler struct {
	f        *Fleet
	waitsFor map[string][]string
	parallel int
	out      map[string]ServiceOutcome
}

func (s *scheduler) run(ctx context.Context, sel []Service, job func(context.Context, Service) ServiceOutcome) []ServiceOutcome {
	pending := map[string]Service{}
	for _, svc := range sel {
		pending[svc.Name] = svc
	}
	var order []ServiceOutcome
	finish := func(o ServiceOutcome) {
		s.out[o.Service] = o
		order = append(order, o)
	}
	done := make(chan ServiceOutcome)
	running := 0
	for len(pending) > 0 || running > 0 {
		for _, o := range s.blocked(pending) {
			delete(pending, o.Service)
			finish(o)
		}
		for _, svc := range s.ready(pending) {
			if running >= s.parallel || ctx.Err() != nil {
				break
			}
			delete(pending, svc.Name)
			running++
			go func(svc Service) { done <- job(ctx, svc) }(svc)
		}
		if running == 0 {
			break // cancelled, or nothing can start
		}
		finish(<-done)
		running--
	}
	for _, svc := range sortServices(pending) {
		finish(ServiceOutcome{Service: svc.Name, State: StateInterrupted, Detail: "not started: the run was cancelled"})
	}
	return order
}

// blocked returns outcomes for pending services waiting for a failed or blocked one.
func (s *scheduler) blocked(pending map[string]Service) []ServiceOutcome {
	var out []ServiceOutcome
	for changed := true; changed; {
		changed = false
		for _, svc := range sortServices(pending) {
			var why []string
			for _, w := range s.waitsFor[svc.Name] {
				if o, ok := s.out[w]; ok && (o.State == StateFailed || o.State == StateBlocked || o.State == StateInterrupted) {
					why = append(why, w+" "+o.State)
				}
			}
			if len(why) > 0 {
				o := ServiceOutcome{Service: svc.Name, State: StateBlocked, Detail: "not rolled back: waits for " + strings.Join(why, ", ")}
				s.out[svc.Name] = o
				out = append(out, o)
				delete(pending, svc.Name)
				changed = true
			}
		}
	}
	return out
}

// ready returns pending services whose waits are all finished, by priority.
func (s *scheduler) ready(pending map[string]Service) []Service {
	var out []Service
	for _, svc := range sortServices(pending) {
		ok := true
		for _, w := range s.waitsFor[svc.Name] {
			if _, done := s.out[w]; !done {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, svc)
		}
	}
	return out
}

// sortServices orders by priority (higher first), then name.
func sortServices(m map[string]Service) []Service {
	out := make([]Service, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority > out[j].Priority
		}
		return out[i].Name < out[j].Name
	})
	return out
}
