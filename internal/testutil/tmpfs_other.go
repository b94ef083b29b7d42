//go:build !linux

package testutil

import "testing"

// MountTmpfs needs Linux: elsewhere it skips the test.
func MountTmpfs(t testing.TB, size int) string {
	t.Helper()
	t.Skip("mounting a tmpfs needs Linux")
	return ""
}
