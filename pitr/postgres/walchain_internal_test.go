package postgres

import (
	"slices"
	"testing"
)

func TestWALRange(t *testing.T) {
	got, err := walRange("0000000100000000000000FE", "000000010000000100000001", 16<<20)
	want := []string{"0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000", "000000010000000100000001"}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := walRange("000000010000000000000005", "000000010000000000000004", 16<<20); err == nil {
		t.Fatal("reversed range accepted")
	}
}
