//go:build !tidemark_testhooks

package expandcontract

// crashPoint is a no-op in normal builds; see crash_on.go.
func crashPoint(string) {}
