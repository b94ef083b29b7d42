package sharedarray

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"gotest.tools/v3/assert"
)

// asNobody runs child spec as uid/gid 65534. It needs root; it skips
// otherwise (as a non-root user the permission checks apply to the test
// itself, see TestReadOnly).
func asNobody(t *testing.T, spec string) int {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	// The child binary must be reachable by that user.
	dir, err := os.MkdirTemp("", "sharedarray-nobody")
	assert.NilError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	assert.NilError(t, os.Chmod(dir, 0o755))
	bin := filepath.Join(dir, "test.bin")
	copyFile(t, os.Args[0], bin)
	args := append(append([]string{}, emulator...), bin, "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Logf("child: %s", out)
		return ee.ExitCode()
	}
	assert.NilError(t, err, "%s", out)
	return 0
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	assert.NilError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	assert.NilError(t, err)
	_, err = io.Copy(out, in)
	assert.NilError(t, err)
	assert.NilError(t, out.Close())
}

// WithPerm(0600) keeps other users out: attaching is ErrPermission; 0644
// lets them attach read-only but not read-write.
func TestPermissionsOtherUser(t *testing.T) {
	private := testName(t)
	mustCreate(t, private, []int{4}, Float64, WithPerm(0o600))
	assert.Equal(t, asNobody(t, "attach "+private), 5)
	assert.Equal(t, asNobody(t, "attach-ro "+private), 5)

	shared := testName(t)
	mustCreate(t, shared, []int{4}, Float64, WithPerm(0o644))
	old := syscall.Umask(0)
	syscall.Umask(old)
	if old&0o044 == 0 {
		assert.Equal(t, asNobody(t, "attach-ro "+shared), 0)
	}
	assert.Equal(t, asNobody(t, "attach "+shared), 5)
}
