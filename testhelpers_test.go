package sharedarray

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
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

// child runs this test binary as a helper process with spec.
func child(spec string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	return cmd
}
