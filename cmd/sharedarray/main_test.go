package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharedarray/sharedarray"
	"gotest.tools/v3/assert"
)

var seq int

func name(t *testing.T) string {
	seq++
	n := fmt.Sprintf("sharedarray-test-cli-%d-%d", os.Getpid(), seq)
	t.Cleanup(func() { os.Remove("/dev/shm/" + n) })
	return n
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCreateInfoLsRm(t *testing.T) {
	n := name(t)
	code, out, errs := runCLI("create", n, "3x4", "float32", "--layout", "numpy1")
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "created "+n))
	code, out, _ = runCLI("info", n)
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.Contains(out, "(3, 4)"), out)
	assert.Assert(t, strings.Contains(out, "numpy1 (292-byte trailer"), out)
	code, out, _ = runCLI("ls", "--json")
	assert.Equal(t, code, 0)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	found := false
	for _, e := range entries {
		if e.Name == n {
			found = true
			assert.Equal(t, e.Dtype, "<f4")
			assert.DeepEqual(t, e.Shape, []int{3, 4})
			assert.Equal(t, e.Bytes, int64(48+292))
			assert.Equal(t, e.Layout, "numpy1")
		}
	}
	assert.Assert(t, found)
	code, out, _ = runCLI("ls")
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.Contains(out, n), out)
	code, _, errs = runCLI("create", n, "3", "f8")
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "file exists"), errs)
	code, _, _ = runCLI("rm", n)
	assert.Equal(t, code, 0)
	code, _, errs = runCLI("info", n)
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "no such file"), errs)
}

func TestInfoBadSegment(t *testing.T) {
	n := name(t)
	assert.NilError(t, os.WriteFile("/dev/shm/"+n, make([]byte, 700), 0o600))
	code, _, errs := runCLI("info", n)
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "magic"), errs)
	code, _, errs = runCLI("rm", n)
	assert.Equal(t, code, 1)
	_, err := os.Stat("/dev/shm/" + n)
	assert.NilError(t, err, "rm keeps what is not a SharedArray: %s", errs)
	code, _, _ = runCLI("rm", "--force", n)
	assert.Equal(t, code, 0)
	_, err = os.Stat("/dev/shm/" + n)
	assert.Assert(t, os.IsNotExist(err))
}

func TestExportImport(t *testing.T) {
	n, m := name(t), name(t)
	a, err := sharedarray.Create(n, []int{5, 2}, sharedarray.Int16)
	assert.NilError(t, err)
	defer a.Close()
	v, _ := sharedarray.View[int16](a)
	for i := range v {
		v[i] = int16(i * 3)
	}
	path := filepath.Join(t.TempDir(), "snap.npy")
	code, out, errs := runCLI("export", n, path)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "exported"))
	_, err = os.Stat(path + ".partial")
	assert.Assert(t, os.IsNotExist(err))
	code, _, errs = runCLI("import", path, m, "--layout", "numpy2")
	assert.Equal(t, code, 0, errs)
	b, err := sharedarray.Attach(m)
	assert.NilError(t, err)
	defer b.Close()
	assert.Equal(t, b.Layout(), sharedarray.LayoutNumPy2)
	assert.DeepEqual(t, b.Bytes(), a.Bytes())
	code, _, _ = runCLI("import", path, m)
	assert.Equal(t, code, 1, "the name exists")
	code, _, errs = runCLI("export", "sharedarray-test-cli-none", path)
	assert.Equal(t, code, 1)
	assert.Assert(t, errs != "")
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"create", "x"}, {"create", "x", "3", "O"}, {"create", "x", "-1", "f8"},
		{"create", "x", "3", "f8", "--layout", "nope"}, {"info"}, {"rm"}, {"ls", "extra"}, {"ls", "--nope"}} {
		code, _, errs := runCLI(args...)
		assert.Equal(t, code, 2, "%v", args)
		assert.Assert(t, errs != "", "%v", args)
	}
	for _, c := range commands {
		code, out, _ := runCLI(c.name, "--help")
		assert.Equal(t, code, 0, c.name)
		assert.Assert(t, strings.Contains(out, "usage: sharedarray "+c.name), out)
	}
	code, out, _ := runCLI("help")
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.Contains(out, "Commands:"))
}

func TestParseShape(t *testing.T) {
	for in, want := range map[string][]int{"3,4": {3, 4}, "640x480": {640, 480}, "(2, 3, 4)": {2, 3, 4}, "5": {5}, "": {}, "()": {}, "(5,)": {5}} {
		got, err := parseShape(in)
		assert.NilError(t, err, in)
		assert.DeepEqual(t, got, want)
	}
	for _, bad := range []string{"a", "3,-1", "3;4"} {
		_, err := parseShape(bad)
		assert.Assert(t, err != nil, bad)
	}
}

// TestInfoHostileCorpus: info prints the reason for every crafted bad
// segment in ../../testdata/hostile and exits 1; rm keeps them.
func TestInfoHostileCorpus(t *testing.T) {
	manifest, err := os.ReadFile("../../testdata/hostile/MANIFEST")
	assert.NilError(t, err)
	n := 0
	for _, line := range strings.Split(string(manifest), "\n") {
		file, field, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		data, err := os.ReadFile("../../testdata/hostile/" + file)
		assert.NilError(t, err)
		nm := name(t)
		assert.NilError(t, os.WriteFile("/dev/shm/"+nm, data, 0o644))
		code, _, errs := runCLI("info", nm)
		assert.Equal(t, code, 1, file)
		assert.Assert(t, strings.Contains(errs, ": "+field), "%s: %s", file, errs)
		code, _, _ = runCLI("rm", nm)
		assert.Equal(t, code, 1, file)
		_, err = os.Stat("/dev/shm/" + nm)
		assert.NilError(t, err, file)
		n++
	}
	assert.Assert(t, n >= 30, "%d corpus files", n)
}

// export writes a new file and renames it: a planted NAME.partial symlink
// is never followed, a failed export keeps the previous file, and a
// symlink target is refused with a clear message.
func TestExportAtomic(t *testing.T) {
	n := name(t)
	code, _, errs := runCLI("create", n, "4", "int8")
	assert.Equal(t, code, 0, errs)
	dir := t.TempDir()
	dst := filepath.Join(dir, "x.npy")
	victim := filepath.Join(dir, "victim")
	assert.NilError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	assert.NilError(t, os.Symlink(victim, dst+".partial"))
	code, _, errs = runCLI("export", n, dst)
	assert.Equal(t, code, 0, errs)
	got, _ := os.ReadFile(victim)
	assert.Equal(t, string(got), "keep me")
	first, err := os.ReadFile(dst)
	assert.NilError(t, err)
	assert.Assert(t, bytes.HasPrefix(first, []byte("\x93NUMPY")))

	// A failing export (the array is gone) leaves the previous file.
	code, _, _ = runCLI("export", n+"-missing", dst)
	assert.Equal(t, code, 1)
	again, _ := os.ReadFile(dst)
	assert.DeepEqual(t, again, first)

	link := filepath.Join(dir, "link.npy")
	assert.NilError(t, os.Symlink(victim, link))
	code, _, errs = runCLI("export", n, link)
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "symbolic link") && strings.Contains(errs, link), errs)
	got, _ = os.ReadFile(victim)
	assert.Equal(t, string(got), "keep me")
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 4, "no temporary file left: %v", ents)
}
