package sharedarray

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// TestREADMESnippet builds and runs the README's Go snippet (under unique
// shm names) and checks that it leaves nothing behind: no shm://frames, no
// shm://restored, no frames.npy.
func TestREADMESnippet(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds a program")
	}
	readme, err := os.ReadFile("README.md")
	assert.NilError(t, err)
	m := regexp.MustCompile("(?s)```go\n(import \\(.*?\n\\)\n)(.*?)```").FindSubmatch(readme)
	assert.Assert(t, m != nil, "no Go snippet in README.md")
	frames, restored := testName(t), testName(t)
	body := string(m[2])
	body = strings.ReplaceAll(body, "{ ... }", "{ panic(err) }")
	body = strings.ReplaceAll(body, `"shm://frames"`, `"shm://`+frames+`"`)
	body = strings.ReplaceAll(body, `"shm://restored"`, `"shm://`+restored+`"`)
	prog := "package main\n\n" + string(m[1]) + "\nfunc main() {\n" + body + "\t_, _, _, _ = b, r, infos, holders\n}\n"

	dir, err := os.MkdirTemp("testdata", "readme-")
	assert.NilError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	assert.NilError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(prog), 0o644))
	bin := filepath.Join(t.TempDir(), "readme")
	out, err := exec.Command("go", "build", "-o", bin, "./"+dir).CombinedOutput()
	assert.NilError(t, err, "%s\n%s", out, prog)
	work := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = work
	out, err = cmd.CombinedOutput()
	assert.NilError(t, err, "%s", out)
	for _, n := range []string{frames, restored} {
		_, err := os.Lstat(shmDir + "/" + n)
		assert.Assert(t, os.IsNotExist(err), "the snippet left %s", n)
	}
	left, _ := os.ReadDir(work)
	assert.Equal(t, len(left), 0, "the snippet left files: %v", fmt.Sprint(left))
}
