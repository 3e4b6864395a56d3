//go:build tidemark_testhooks

package expandcontract

import (
	"os"
	"syscall"
)

// crashPoint kills the process with SIGKILL when TIDEMARK_TEST_CRASH_AT
// names this point ("phase:action-id", or "phase:backfill/t#N" after the
// Nth batch). Only binaries built with -tags tidemark_testhooks have it.
func crashPoint(id string) {
	if at := os.Getenv("TIDEMARK_TEST_CRASH_AT"); at != "" && at == id {
		syscall.Kill(os.Getpid(), syscall.SIGKILL) //nolint:errcheck
		select {}
	}
}
