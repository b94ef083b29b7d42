package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sharedarray/sharedarray"
	"golang.org/x/sys/unix"
	"gotest.tools/v3/assert"
)

// runEnv makes the test binary run the CLI with the JSON-encoded
// arguments on its real stdin, stdout and stderr.
const runEnv = "SHAREDARRAY_CLI_TEST_RUN"

func init() {
	if a := os.Getenv(runEnv); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Exit(run(args, os.Stdout, os.Stderr))
	}
}

// openPTY returns a new pseudo-terminal's two ends.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	assert.NilError(t, unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	assert.NilError(t, err)
	pts, err = os.OpenFile("/dev/pts/"+itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	assert.NilError(t, err)
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// `sharedarray top NAME | head -3` on a terminal: head closes the pipe,
// and top must still give the terminal back its line mode and echo
// (issue 18 review: it died of SIGPIPE with the terminal left in
// non-canonical mode without echo, exit status 141).
func TestTopPipeClosedRestoresTerminal(t *testing.T) {
	n := name(t)
	w, err := sharedarray.CreateRing(n, 4, []int{2}, sharedarray.Uint64)
	assert.NilError(t, err)
	defer w.Close()
	_, pts := openPTY(t)
	before, err := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	assert.NilError(t, err)
	assert.Assert(t, before.Lflag&unix.ICANON != 0 && before.Lflag&unix.ECHO != 0)

	args, _ := json.Marshal([]string{"top", n})
	argv := append(strings.Fields(os.Getenv("SHAREDARRAY_EMULATOR")), os.Args[0], "-test.run=^$")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), runEnv+"="+string(args))
	cmd.Stdin = pts
	out, err := cmd.StdoutPipe()
	assert.NilError(t, err)
	assert.NilError(t, cmd.Start())
	defer cmd.Process.Kill()
	first, err := bufio.NewReader(out).ReadString('\n')
	assert.NilError(t, err)
	assert.Assert(t, strings.Contains(first, "sharedarray top"), first)
	out.Close() // the reader of the pipe is gone: the next screen fails
	err = cmd.Wait()
	after, terr := unix.IoctlGetTermios(int(pts.Fd()), unix.TCGETS)
	assert.NilError(t, terr)
	assert.Assert(t, after.Lflag&unix.ICANON != 0 && after.Lflag&unix.ECHO != 0,
		"terminal left without line mode or echo (lflag %#x, was %#x); top: %v", after.Lflag, before.Lflag, err)
	if ee, ok := err.(*exec.ExitError); ok {
		assert.Assert(t, ee.ExitCode() >= 0, "killed by a signal: %v", err)
	}
}
