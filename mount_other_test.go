//go:build !linux

package sharedarray

import "testing"

// mountTmpfs needs Linux.
func mountTmpfs(t *testing.T, size int) string {
	t.Skip("mounting a tmpfs needs Linux")
	return ""
}
