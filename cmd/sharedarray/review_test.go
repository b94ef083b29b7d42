package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

// export never replaces what is not a regular file: a FIFO (or a device
// such as /dev/full) stays what it was, a directory is reported as one.
func TestExportRefusesNonRegular(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("create", n, "3", "u1")
	assert.Equal(t, code, 0, errs)
	dir := t.TempDir()

	fifo := filepath.Join(dir, "fifo.npy")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o600))
	code, out, errs := runCLI("export", n, fifo)
	assert.Equal(t, code, 1, out)
	oneError(t, errs, "export", fifo)
	assert.Assert(t, strings.Contains(errs, "not a regular file"), errs)
	fi, err := os.Lstat(fifo)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode()&os.ModeNamedPipe != 0, "the FIFO was replaced: %v", fi.Mode())

	sub := filepath.Join(dir, "sub")
	assert.NilError(t, os.Mkdir(sub, 0o755))
	code, _, errs = runCLI("export", n, sub)
	assert.Equal(t, code, 1)
	oneError(t, errs, "export", sub)
	assert.Assert(t, strings.HasSuffix(errs, ": is a directory\n"), errs)

	link := filepath.Join(dir, "link.npy")
	assert.NilError(t, os.Symlink(filepath.Join(dir, "target.npy"), link))
	code, _, errs = runCLI("export", n, link)
	assert.Equal(t, code, 1)
	oneError(t, errs, "export", link)
	assert.Assert(t, strings.Contains(errs, "symbolic link"), errs)
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 3, "nothing written: %v", ents)
}

// When the .npy file is at fault (not a .npy file, a directory, shorter
// than its header says), the message names the file, not the array.
func TestImportBlamesFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := filepath.Join(dir, "short.npy")
	src := name(t)
	a, err := sharedarray.Create(src, []int{100}, sharedarray.Float64)
	assert.NilError(t, err)
	assert.NilError(t, a.SaveNPY(short))
	a.Close()
	fi, err := os.Stat(short)
	assert.NilError(t, err)
	assert.NilError(t, os.Truncate(short, fi.Size()-8))
	junk := filepath.Join(dir, "junk.npy")
	assert.NilError(t, os.WriteFile(junk, []byte("not a npy file"), 0o600))
	for _, file := range []string{short, junk, dir} {
		n := name(t)
		code, _, errs := runCLI("import", file, n)
		assert.Equal(t, code, 1, errs)
		oneError(t, errs, "import", file)
		assert.Assert(t, !exists(n), "no array left behind")
	}
}

// A shm name that is a symbolic link is reported as one, not as "too many
// levels of symbolic links" (the ELOOP of the O_NOFOLLOW open); rm --force
// leaves it.
func TestSymlinkNameMessage(t *testing.T) {
	t.Parallel()
	n, target := name(t), name(t)
	code, _, errs := runCLI("create", target, "2", "u1")
	assert.Equal(t, code, 0, errs)
	assert.NilError(t, os.Symlink(target, "/dev/shm/"+n))
	for _, args := range [][]string{{"info", n}, {"rm", n}, {"rm", "--force", "shm://" + n}, {"import", "/dev/null", n}} {
		code, _, errs := runCLI(args...)
		assert.Equal(t, code, 1, "%v", args)
		oneError(t, errs, args[0], args[len(args)-1])
		assert.Assert(t, strings.HasSuffix(errs, ": is a symbolic link (arrays in /dev/shm are never opened through links)\n"), "%v: %s", args, errs)
	}
	fi, err := os.Lstat("/dev/shm/" + n)
	assert.NilError(t, err)
	assert.Assert(t, fi.Mode()&os.ModeSymlink != 0)
	assert.Assert(t, exists(target))
}

// An unknown flag is named as the user typed it, with a hint for operands
// that start with '-'.
func TestUnknownFlagAsTyped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"create", "x", "-1", "u1"}, "-1"},
		{[]string{"create", "x", "--bogus=3", "3", "u1"}, "--bogus"},
		{[]string{"rm", "-bogus"}, "-bogus"},
		{[]string{"ls", "-x"}, "-x"},
	} {
		code, _, errs := runCLI(tc.args...)
		assert.Equal(t, code, 2)
		first, _, _ := strings.Cut(errs, "\n")
		assert.Equal(t, first, fmt.Sprintf("sharedarray: %s: unknown flag %s (operands that start with '-' go after --)", tc.args[0], tc.flag))
	}
	code, _, errs := runCLI("create", "x", "3", "u1", "-sparse=maybe")
	assert.Equal(t, code, 2)
	assert.Assert(t, strings.HasPrefix(errs, `sharedarray: create: invalid boolean value "maybe" for -sparse: `), errs)
	code, _, errs = runCLI("create", "x", "3", "u1", "--layout")
	assert.Equal(t, code, 2)
	assert.Assert(t, strings.HasPrefix(errs, "sharedarray: create: flag needs an argument: --layout\n"), errs)
}

// --older-than 0 means any age: an array whose mtime is in the future
// (a clock set back, touch -d) is not exempt.
func TestGCOlderThanZeroFuture(t *testing.T) {
	t.Parallel()
	n := name(t)
	a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	setAge(t, n, -time.Hour)
	args := []string{"gc", "--older-than", "0", n}
	if _, err := sharedarray.Holders(n); err != nil {
		args = append(args, "--force") // some process here cannot be inspected
	}
	code, out, errs := runCLI(args...)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.HasPrefix(out, "removed "+n+" "), out)
	assert.Assert(t, !exists(n))
}

// The hint when processes cannot be inspected does not tell root to run
// as root.
func TestInspectHint(t *testing.T) {
	t.Parallel()
	assert.Assert(t, strings.Contains(inspectHint(1000), "run as root"))
	assert.Assert(t, !strings.Contains(inspectHint(0), "run as root"))
}

// No byte of user input reaches the terminal raw, even inside a cause the
// system formatted (a path in a read error) or in doctor's report.
func TestNoRawEscapes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "esc\x1b[31mdir")
	assert.NilError(t, os.Mkdir(dir, 0o755))
	n := name(t)
	code, out, errs := runCLI("import", dir, n)
	assert.Equal(t, code, 1)
	assert.Assert(t, !strings.ContainsRune(out+errs, 0x1b), "%q", errs)
	_, out, errs = runCLI("doctor", "--dir", dir)
	assert.Assert(t, !strings.ContainsRune(out+errs, 0x1b), "%q", out)
	assert.Assert(t, strings.Contains(out, quote(dir)), "%q", out)
}

// export onto the array's own file (file:// names, or /dev/shm/NAME, or a
// hard link to it) is refused: it would replace the array by a .npy file.
func TestExportOntoItself(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	arr := filepath.Join(dir, "self.arr")
	code, _, errs := runCLI("create", "file://"+arr, "3", "u1")
	assert.Equal(t, code, 0, errs)
	link := filepath.Join(dir, "hard.npy")
	assert.NilError(t, os.Link(arr, link))
	n := name(t)
	code, _, errs = runCLI("create", n, "3", "u1")
	assert.Equal(t, code, 0, errs)
	for _, tc := range [][2]string{{"file://" + arr, arr}, {"file://" + arr, link}, {n, "/dev/shm/" + n}} {
		code, _, errs = runCLI("export", tc[0], tc[1])
		assert.Equal(t, code, 1, "%v", tc)
		oneError(t, errs, "export", tc[1])
		assert.Assert(t, strings.Contains(errs, "the array's own file"), errs)
		_, err := sharedarray.Stat(tc[0])
		assert.NilError(t, err, "the array survives")
	}
}

// Found by the v1 review (rev17): every message says what to do next and
// names no Go identifier. rm of a file that is not an array names --force;
// import of a directory says so, as export does, rather than "bad .npy
// file"; doctor's memlock line names mlock(2), not the Go method.
func TestReviewNextSteps(t *testing.T) {
	t.Parallel()
	junk := name(t)
	assert.NilError(t, os.WriteFile("/dev/shm/"+junk, []byte("x\n"), 0o600))
	t.Cleanup(func() { os.Remove("/dev/shm/" + junk) })
	code, _, errs := runCLI("rm", junk)
	assert.Equal(t, code, 1)
	oneError(t, errs, "rm", junk)
	assert.Assert(t, strings.Contains(errs, "(not a valid SharedArray); kept (--force removes"), errs)
	_, err := os.Stat("/dev/shm/" + junk)
	assert.NilError(t, err, "rm without --force removed a file that is not an array")

	dir := t.TempDir()
	free := name(t)
	code, _, errs = runCLI("import", dir, free)
	assert.Equal(t, code, 1)
	oneError(t, errs, "import", dir)
	assert.Assert(t, strings.HasSuffix(errs, ": is a directory\n"), errs)
	assert.Assert(t, !strings.Contains(errs, ".npy"), errs)
	_, err = sharedarray.Stat(free)
	assert.Assert(t, errors.Is(err, sharedarray.ErrNotExist), "import of a directory created %s: %v", free, err)

	_, out, _ := runCLIRaw("doctor")
	assert.Assert(t, strings.Contains(out, "mlock(2)"), out)
	assert.Assert(t, !strings.Contains(out, "Array."), out)
}
