package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// MemoryCgroup creates the memory cgroup parent/name (parent is a cgroup of
// the given version, 1 or 2) with a memory limit of limit bytes, removes it
// when the test ends and returns its directory. On cgroup v2 it enables the
// memory controller below parent first if need be. Without the privilege
// (root or a delegated hierarchy) it skips, except in CI, where it fails.
func MemoryCgroup(t testing.TB, parent string, version int, name string, limit int64) string {
	t.Helper()
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		SkipOrFail(t, "cannot create a cgroup (needs root or a delegated hierarchy): %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the test cgroup: %v", err)
		}
	})
	limitFile := "memory.limit_in_bytes"
	if version == 2 {
		limitFile = "memory.max"
		if _, err := os.Stat(filepath.Join(dir, limitFile)); err != nil {
			if err := os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte("+memory"), 0o644); err != nil {
				SkipOrFail(t, "cgroup v2: cannot enable the memory controller below %s: %v", parent, err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(fmt.Sprint(limit)), 0o644); err != nil {
		SkipOrFail(t, "cannot set %s in %s: %v", limitFile, dir, err)
	}
	return dir
}
