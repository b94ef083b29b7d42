package testutil

import (
	"fmt"
	"os"
	"testing"
)

// SkipOrFail skips the test for a missing prerequisite (a privilege, a
// kernel feature), except in CI (CI set in the environment), which has them
// all and where a skip would hide a broken test: there it fails.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
