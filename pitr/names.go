package pitr

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// StoreName returns a safe identifier (schema or database name, at most 63
// bytes) for a label: prefix + the label in lowercase with every other
// character replaced by '_' + a short hash, so distinct labels never collide.
func StoreName(prefix, label string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(label) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(label))
	h := hex.EncodeToString(sum[:])[:8]
	s := b.String()
	if max := 63 - len(prefix) - 1 - len(h); len(s) > max {
		s = s[:max]
	}
	return prefix + s + "_" + h
}
