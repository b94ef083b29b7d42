package pycompat_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	sa "github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/testutil"
)

// pyFill creates an array with the real SharedArray and writes every byte.
const pyFill = `
import sys, numpy as np, SharedArray as sa
a = sa.create(sys.argv[1], (int(sys.argv[2]),), dtype=np.uint8)
print("created", flush=True)
a[:] = 1
print("filled", flush=True)
`

// What docs/containers.md says of a tmpfs that is too small: Python's
// SharedArray creates the array without reserving it and dies of SIGBUS
// ("Bus error") when it writes past the free space, where Go's Create
// refuses it up front with ENOSPC. A missing array is FileNotFoundError.
func TestTooSmallTmpfs(t *testing.T) {
	dir := testutil.MountTmpfs(t, 1<<20)
	for _, b := range builds {
		t.Run(b.venv, func(t *testing.T) {
			pyFor(t, b)
			name := "file://" + filepath.Join(dir, b.venv)
			out, err := exec.Command(b.python(), "-c", pyFill, name, fmt.Sprint(4<<20)).CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGBUS {
				t.Fatalf("want SIGBUS, got %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "created\n") || strings.Contains(string(out), "filled") {
				t.Fatalf("create must succeed and the fill fault:\n%s", out)
			}
			os.Remove(filepath.Join(dir, b.venv))

			_, err = sa.Create(name, []int{4 << 20}, sa.Uint8)
			var se *sa.SpaceError
			if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &se) || se.Where != sa.WhereFileSystem {
				t.Fatalf("Go Create: want a file-system SpaceError, got %v", err)
			}

			out, err = exec.Command(b.python(), "-c", "import SharedArray as sa, sys\ntry:\n    sa.attach(sys.argv[1])\nexcept FileNotFoundError as e:\n    print('FileNotFoundError')", name).CombinedOutput()
			if err != nil || string(out) != "FileNotFoundError\n" {
				t.Fatalf("attach of a missing array: %v\n%s", err, out)
			}
		})
	}
}
