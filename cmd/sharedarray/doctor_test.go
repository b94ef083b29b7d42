package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/hostinfo"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"0": 0, "4096": 4096, "1K": 1 << 10, "1k": 1 << 10, "64M": 64 << 20, "64m": 64 << 20, "64Mi": 64 << 20,
		"64MiB": 64 << 20, "64MB": 64 << 20, "2G": 2 << 30, "2GiB": 2 << 30, "1T": 1 << 40, "1.5G": 3 << 29,
		".5K": 512, "100B": 100, " 8M ": 8 << 20, "8 M": 8 << 20,
	} {
		got, err := parseSize(in)
		assert.NilError(t, err, in)
		assert.Equal(t, got, want, in)
	}
	for _, in := range []string{"", "M", "-1", "+1", "1x", "1e9", "1.2.3", ".", "1iB", "1P", "5i", "5ib", "1Gii", "-0", "9223372036854775808", "8388608T", "1e400G", "NaN", "0x10"} {
		_, err := parseSize(in)
		assert.Assert(t, err != nil, "%q", in)
	}
}

func doctorJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, out, errs := runCLI(append([]string{"doctor", "--json"}, args...)...)
	assert.Equal(t, errs, "")
	var m map[string]any
	assert.NilError(t, json.Unmarshal([]byte(out), &m), out)
	return code, m
}

func TestDoctor(t *testing.T) {
	t.Parallel()
	code, out, errs := runCLI("doctor")
	assert.Equal(t, code, 0, errs)
	for _, want := range []string{"directory      /dev/shm, writable by this process\n", "mount          tmpfs on /dev/shm", "host memory", "cgroup", "mappings", "memlock", "huge pages", "arrays", "room"} {
		assert.Assert(t, strings.Contains(out, want), "%q in\n%s", want, out)
	}
	code, out, _ = runCLI("doctor", "--need", "1M")
	assert.Equal(t, code, 0, out)
	assert.Assert(t, strings.Contains(out, "need 1.0 MiB   fits\n"), out)
	code, out, _ = runCLI("doctor", "--need", "8000T")
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.Contains(out, "need 7.8 PiB   does NOT fit:\n"), out)
	assert.Assert(t, strings.Contains(out, "- host memory (MemAvailable) has "), out)

	code, m := doctorJSON(t, "--need", "1M")
	assert.Equal(t, code, 0)
	assert.Equal(t, m["dir"], "/dev/shm")
	assert.Equal(t, m["fits"], true)
	assert.Equal(t, m["need"], float64(1<<20))
	assert.DeepEqual(t, m["problems"], []any{})
	for _, k := range []string{"warnings", "mount", "fs_size", "fs_free", "fs_memory", "mem_total", "mem_available", "cgroup", "max_map_count", "mappings", "memlock_limit", "memlock_max", "shmem_thp", "arrays", "array_bytes", "room", "room_limit"} {
		_, ok := m[k]
		assert.Assert(t, ok, "%s missing", k)
	}
	code, m = doctorJSON(t)
	assert.Equal(t, code, 0)
	_, ok := m["fits"]
	assert.Assert(t, !ok, "no --need, no answer")
	code, m = doctorJSON(t, "--need", "8000T")
	assert.Equal(t, code, 1)
	assert.Equal(t, m["fits"], false)
	refused := m["refused"].([]any)
	assert.Assert(t, len(refused) >= 1)

	// A size so large that adding the trailer overflows does not fit.
	code, m = doctorJSON(t, "--need", "9223372036854775807")
	assert.Equal(t, code, 1)
	assert.Equal(t, m["fits"], false)

	for _, args := range [][]string{{"doctor", "--need", "lots"}, {"doctor", "extra"}, {"doctor", "--bogus"}, {"doctor", "--need", ""}, {"doctor", "--need", "-1"}} {
		code, _, errs := runCLI(args...)
		assert.Equal(t, code, 2, "%v: %s", args, errs)
		assert.Assert(t, strings.HasPrefix(errs, "sharedarray: doctor: "), errs)
	}
}

// doctor --dir on a real 8 MiB tmpfs, the way a container's small
// /dev/shm looks: the size, an array in it, and --need refused by the
// file system with the --shm-size advice.
func TestDoctorSmallTmpfs(t *testing.T) {
	t.Parallel()
	dir := testutil.MountTmpfs(t, 8<<20)
	a, err := sharedarray.Create("file://"+filepath.Join(dir, "a"), []int{1 << 20}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	code, out, _ := runCLI("doctor", "--dir", dir, "--need", "16M")
	assert.Equal(t, code, 1, out)
	for _, want := range []string{
		"mount          tmpfs on " + dir + " (rw,size=8192k",
		"size           8.0 MiB, 7.0 MiB free\n",
		"arrays         1 SharedArray(s) in " + dir + ", 1.0 MiB\n",
		"room           7.0 MiB: the largest array that fits now, set by the file system\n",
		"need 16.0 MiB  does NOT fit:\n",
		"- file system " + dir + " has 7.0 MiB available: make the tmpfs larger (/dev/shm: docker run --shm-size; Kubernetes: an emptyDir with medium Memory and a larger sizeLimit)",
	} {
		assert.Assert(t, strings.Contains(out, want), "%q in\n%s", want, out)
	}
	code, m := doctorJSON(t, "--dir", dir, "--need", "6M")
	assert.Equal(t, code, 0)
	// room is the largest --need that fits.
	room := int64(m["room"].(float64))
	code, _ = doctorJSON(t, "--dir", dir, "--need", fmt.Sprint(room))
	assert.Equal(t, code, 0, "--need %d (room)", room)
	code, _ = doctorJSON(t, "--dir", dir, "--need", fmt.Sprint(room+1))
	assert.Equal(t, code, 1, "--need %d (room+1)", room+1)
	assert.Equal(t, m["fs_size"], float64(8<<20))
	assert.Equal(t, m["fs_memory"], true)
	assert.Equal(t, m["arrays"], float64(1))

	code, out, _ = runCLI("doctor", "--dir", filepath.Join(dir, "missing"), "--need", "1M")
	assert.Equal(t, code, 1, out)
	assert.Assert(t, strings.Contains(out, "directory      "+filepath.Join(dir, "missing")+": no such file or directory\n"), out)
	assert.Assert(t, !strings.Contains(out, "mount "), "no mount for a missing directory:\n%s", out)
	assert.Assert(t, strings.Contains(out, "need 1.0 MiB   fits the limits, but "+filepath.Join(dir, "missing")+" cannot hold arrays"), out)
	assert.Assert(t, strings.Contains(out, "warning        statfs "+filepath.Join(dir, "missing")+": no such file or directory"), out)
	file := filepath.Join(t.TempDir(), "file")
	assert.NilError(t, os.WriteFile(file, nil, 0o644))
	code, m = doctorJSON(t, "--dir", file)
	assert.Equal(t, code, 1)
	assert.DeepEqual(t, m["problems"], []any{"stat " + file + ": not a directory"})
	code, m = doctorJSON(t, "--dir", filepath.Join(dir, "missing"))
	assert.Equal(t, code, 1)
	assert.Equal(t, m["mount"].(map[string]any)["point"], "", "no mount for a missing directory")
}

// doctorChildEnv makes TestDoctorCgroupChild run doctor with the
// arguments it holds (one per line) and print the exit status.
const doctorChildEnv = "SHAREDARRAY_CLI_TEST_DOCTOR"

func TestDoctorCgroupChild(t *testing.T) {
	args := os.Getenv(doctorChildEnv)
	if args == "" {
		t.Skip("helper process for TestDoctorCgroup")
	}
	code := run(strings.Split(args, "\n"), os.Stdout, os.Stdout)
	fmt.Printf("exit %d\n", code)
}

// doctor in a real 128 MiB memory cgroup: the limit is reported, and
// --need 256M is refused by it with the --memory advice.
func TestDoctorCgroup(t *testing.T) {
	t.Parallel()
	cg := hostinfo.Read("").Cgroup
	if cg.Version == 0 {
		testutil.SkipOrFail(t, "no memory cgroup for this process")
	}
	dir := testutil.MemoryCgroup(t, cg.Path, cg.Version, fmt.Sprintf("sharedarray-test-cli-%d", os.Getpid()), 128<<20)
	doctor := func(args ...string) string {
		cmd := exec.Command("/bin/sh", "-c", `echo $$ > "$1" && exec $SHAREDARRAY_EMULATOR "$2" -test.run='^TestDoctorCgroupChild$'`, "sh", filepath.Join(dir, "cgroup.procs"), os.Args[0])
		cmd.Env = append(os.Environ(), doctorChildEnv+"="+strings.Join(append([]string{"doctor"}, args...), "\n"))
		out, err := cmd.CombinedOutput()
		assert.NilError(t, err, "%s", out)
		return unbreakDoctor(string(out))
	}
	out := doctor("--need", "256M")
	t.Logf("doctor in %s:\n%s", dir, out)
	for _, want := range []string{
		fmt.Sprintf("cgroup         v%d %s\n", cg.Version, dir),
		"limit 128.0 MiB, ",
		"need 256.0 MiB does NOT fit:\n",
		"- cgroup memory limit " + dir + " has ",
		"raise the container's memory limit (docker run --memory; Kubernetes: resources.limits.memory)",
		"exit 1\n",
	} {
		assert.Assert(t, strings.Contains(out, want), "%q in\n%s", want, out)
	}
	out = doctor("--need", "16M")
	assert.Assert(t, strings.Contains(out, "need 16.0 MiB  fits\n"), out)
	assert.Assert(t, strings.Contains(out, "exit 0\n"), out)
}

// unbreakDoctor joins the lines doctor's report wraps to fit 80 columns
// (continuations indented 17 spaces, two past the value column), so tests
// can look for whole lines.
func unbreakDoctor(s string) string {
	return strings.ReplaceAll(s, "\n"+strings.Repeat(" ", 17), " ")
}

// doctor's report fits 80 columns, the item lines under "does NOT fit:"
// included.
func TestDoctorFits(t *testing.T) {
	t.Parallel()
	_, out, _ := runCLIRaw("doctor", "--need", "8000T")
	fits(t, "doctor", out)
	assert.Assert(t, strings.Contains(out, "\n               - host memory (MemAvailable) has "), out)
}
