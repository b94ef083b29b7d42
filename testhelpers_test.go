package sharedarray

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"gotest.tools/v3/assert"
)

// TestPrefix starts every segment name the tests create; make clean
// removes leftovers with it.
const testPrefix = "sharedarray-test-"

var nameSeq atomic.Int64

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// testName returns a shm name unique to this process and test, and
// removes whatever the test leaves under it.
func testName(t testing.TB) string {
	t.Helper()
	base := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(base) > 120 {
		base = base[:120]
	}
	name := fmt.Sprintf("%s%d-%s-%d", testPrefix, os.Getpid(), base, nameSeq.Add(1))
	t.Cleanup(func() { os.Remove(shmDir + "/" + name) })
	return name
}

// childEnv names the helper a re-executed test binary runs instead of the
// tests (see TestMain).
const childEnv = "SHAREDARRAY_TEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		if rest, ok := strings.CutPrefix(spec, "formats "); ok {
			os.Exit(runFormatsChild(rest))
		}
		os.Exit(runChild(spec))
	}
	os.Exit(m.Run())
}

// emulator is the command line that runs this test binary when it was
// cross-built (make arm64 sets SHAREDARRAY_EMULATOR to "qemu-aarch64 -L
// /usr/aarch64-linux-gnu"); empty when it runs natively.
var emulator = strings.Fields(os.Getenv("SHAREDARRAY_EMULATOR"))

// skipIfNoFaultAddress skips the rest of t where signals carry no fault
// address: under qemu-user, scripts/arm64.sh finds that with
// scripts/faultaddr.c and sets SHAREDARRAY_NO_FAULT_ADDRESS (see
// docs/platforms.md).
func skipIfNoFaultAddress(t testing.TB) {
	t.Helper()
	if os.Getenv("SHAREDARRAY_NO_FAULT_ADDRESS") != "" {
		t.Skipf("under %s: %s (docs/platforms.md)", strings.Join(emulator, " "), noFaultAddress)
	}
}

// child runs this test binary as a helper process with spec.
func child(spec string) *exec.Cmd {
	args := append(append([]string{}, emulator...), os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	return cmd
}

// startReady starts cmd (a child) with its stderr on ours and returns once
// it has written its first line, "ready\n".
func startReady(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	var line [6]byte
	_, err = out.Read(line[:])
	assert.NilError(t, err)
}
