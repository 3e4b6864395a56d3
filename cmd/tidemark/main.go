// Command tidemark makes microservice deploys and rollbacks safe for their
// data: expand/contract migrations, pre-deploy PITR snapshots, cross-service
// reconciliation, and versioned migrations underneath.
//
// This package only wires: it parses flags and configuration, builds options,
// calls a library package, renders the result and maps errors to exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	ctx, stop := signalContext(os.Stderr)
	defer stop()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// signalContext cancels the context on the first SIGINT/SIGTERM so the tool
// stops cleanly between steps; the second one exits at once.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		fmt.Fprintln(stderr, "tidemark: interrupted, stopping after the current step (press Ctrl-C again to exit now)")
		cancel()
		select {
		case <-sigs:
			fmt.Fprintln(stderr, "tidemark: interrupted twice, exiting")
			os.Exit(130)
		case <-done:
		}
	}()
	var once bool
	return ctx, func() {
		if !once {
			once = true
			signal.Stop(sigs)
			close(done)
			cancel()
		}
	}
}
