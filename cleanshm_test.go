package sharedarray

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"gotest.tools/v3/assert"
)

// make clean (scripts/cleanshm.sh) removes the leftovers of processes that
// are gone and keeps those of a running process: a test of another
// checkout may be using them.
func TestCleanShmKeepsLiveProcesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	gone := exec.Command("true")
	assert.NilError(t, gone.Run()) // its PID is free now (reuse within the test is unlikely)
	dead, live := gone.Process.Pid, os.Getpid()
	files := map[string]bool{ // name: kept
		fmt.Sprintf("sharedarray-test-%d-TestX-1", live):           true,
		fmt.Sprintf("sharedarray-test-cli-%d-3", live):             true,
		fmt.Sprintf("sharedarray-test-example-ring-%d", live):      true,
		fmt.Sprintf("sharedarray-test-%d-TestX-1", dead):           false,
		fmt.Sprintf("sharedarray-test-py-%d-2", dead):              false,
		fmt.Sprintf("sharedarray-test-example-ring-gray-%d", dead): false,
		fmt.Sprintf("sharedarray-bench-ring-%d-go", dead):          false,
		fmt.Sprintf("sharedarray-demo-%d-cam0", dead):              false,
		"sharedarray-test-nopid":                                   true,
		fmt.Sprintf("other-%d", dead):                              true,
	}
	for f := range files {
		assert.NilError(t, os.WriteFile(filepath.Join(dir, f), nil, 0o600))
	}
	out, err := exec.Command("sh", "scripts/cleanshm.sh", dir).CombinedOutput()
	assert.NilError(t, err, string(out))
	for f, kept := range files {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.Equal(t, err == nil, kept, "%s: %v\n%s", f, err, out)
	}
}
