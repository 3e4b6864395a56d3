package postgres

import "testing"

func TestNextPointName(t *testing.T) {
	for _, c := range [][3]string{
		{"deploy-2", "deploy-2", "deploy-2.2"},
		{"deploy-2", "deploy-2.2", "deploy-2.3"},
		{"deploy-2", "deploy-2.9", "deploy-2.10"},
		{"v1.2", "v1.2", "v1.2.2"},
		{"v1.2", "v1.2.2", "v1.2.3"},
	} {
		if got := nextPointName(c[0], c[1]); got != c[2] {
			t.Errorf("nextPointName(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
