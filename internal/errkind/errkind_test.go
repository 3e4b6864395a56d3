package errkind

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{io.EOF, 1},
		{Usagef("bad flag %q", "x"), 2},
		{fmt.Errorf("snapshot: %w", Preconditionf("archive_mode is off")), 3},
		{Problemsf("%d findings", 3), 4},
		{Temporaryf("lock held by %s", "host"), 75},
	}
	for _, c := range cases {
		if got := ExitCode(c.err); got != c.want {
			t.Errorf("ExitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestWrapKeepsCause(t *testing.T) {
	err := Preconditionf("read config: %w", io.ErrUnexpectedEOF)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !errors.Is(err, ErrPrecondition) {
		t.Fatalf("errors.Is lost the cause or the kind: %v", err)
	}
	if err.Error() != "read config: unexpected EOF" {
		t.Fatalf("message = %q", err.Error())
	}
}
