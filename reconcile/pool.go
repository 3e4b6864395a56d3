package reconcile

import (
	"context"
	"sync"
)

// inWorkers calls do(ctx, i) for each i of items on workers goroutines,
// each with its own session (one snapshot transaction per database, see
// withSession). The first error cancels the others and is returned.
func inWorkers(ctx context.Context, workers int, items []int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, end := withSession(ctx)
			defer end()
			for i := range next {
				if err := do(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		}()
	}
feed:
	for _, i := range items {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	return ctx.Err()
}
