package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/testutil"
	"gotest.tools/v3/assert"
)

var seq atomic.Int64

const testPrefix = "sharedarray-test-cli-"

func name(t *testing.T) string {
	n := fmt.Sprintf("%s%d-%d", testPrefix, os.Getpid(), seq.Add(1))
	cleanup(t, n)
	return n
}

func cleanup(t *testing.T, n string) {
	t.Cleanup(func() { os.Remove("/dev/shm/" + n) })
}

// runCLI runs the command and returns its exit code, stdout, and stderr
// with the lines fitLine wrapped joined again ("\n  " -> " "): the tests
// compare messages; TestMessagesFit checks the wrapping.
func runCLI(args ...string) (int, string, string) {
	code, out, errs := runCLIRaw(args...)
	if len(args) > 0 && args[0] == "doctor" {
		out = unbreakDoctor(out)
	}
	return code, out, strings.ReplaceAll(errs, "\n  ", " ")
}

func runCLIRaw(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// holdEnv makes the test binary a holder process (see startHolder).
const holdEnv = "SHAREDARRAY_CLI_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(rdlockEnv); path != "" {
		os.Exit(rdlockHolder(path))
	}
	if n := os.Getenv(holdEnv); n != "" {
		a, err := sharedarray.Attach(n, sharedarray.ReadOnly())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		a.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHolder runs a Go process that attaches n and keeps it mapped until
// the test ends.
func startHolder(t *testing.T, n string) *exec.Cmd {
	t.Helper()
	// Under an emulator (make arm64) the test binary runs through it.
	args := append(strings.Fields(os.Getenv("SHAREDARRAY_EMULATOR")), os.Args[0], "-test.run=^$")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), holdEnv+"="+n)
	return testutil.StartHolder(t, cmd, "holder of "+n)
}

func lsJSON(t *testing.T) map[string]lsEntry {
	t.Helper()
	code, out, errs := runCLI("ls", "--json")
	assert.Equal(t, code, 0, errs)
	var entries []lsEntry
	assert.NilError(t, json.Unmarshal([]byte(out), &entries))
	m := map[string]lsEntry{}
	for _, e := range entries {
		n := e.Name
		if e.NameBytes != nil {
			n = string(e.NameBytes)
		}
		m[n] = e
	}
	return m
}

// oneError checks the single error style: one line, "sharedarray: OP
// NAME: cause", the prefix once.
func oneError(t *testing.T, errs, op, name string) {
	t.Helper()
	line := strings.TrimSuffix(errs, "\n")
	assert.Assert(t, !strings.Contains(line, "\n"), "one line: %q", errs)
	want := "sharedarray: " + op + " " + quote(name) + ": "
	assert.Assert(t, strings.HasPrefix(line, want), "%q does not start with %q", line, want)
	assert.Equal(t, strings.Count(line, "sharedarray:"), 1, line)
}

func TestCreateInfoLsRm(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, out, errs := runCLI("create", n, "3x4", "float32", "--layout", "numpy1")
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, out, "created "+n+": <f4 (3, 4), 48 data bytes, layout numpy1\n")
	code, out, _ = runCLI("info", n)
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.Contains(out, "(3, 4)"), out)
	assert.Assert(t, strings.Contains(out, "numpy1 (292-byte trailer"), out)
	assert.Assert(t, strings.Contains(out, "data bytes  48\n"), out)
	assert.Assert(t, strings.Contains(out, "file bytes  340\n"), out)
	e, ok := lsJSON(t)[n]
	assert.Assert(t, ok)
	assert.Equal(t, e.Dtype, "<f4")
	assert.DeepEqual(t, e.Shape, []int{3, 4})
	assert.Equal(t, e.NBytes, int64(48), "nbytes: the data, as create reports")
	assert.Equal(t, e.FileBytes, int64(48+292))
	assert.Equal(t, e.Layout, "numpy1")
	assert.Assert(t, e.NameBytes == nil)
	code, out, _ = runCLI("ls")
	assert.Equal(t, code, 0)
	lines := strings.Split(out, "\n")
	assert.Assert(t, strings.HasPrefix(lines[0], "NAME "), out)
	assert.Assert(t, strings.Contains(lines[0], " NBYTES "), out)
	row := rowOf(t, out, n)
	assert.DeepEqual(t, strings.Fields(row)[3], "48")
	code, _, errs = runCLI("create", n, "3", "f8")
	assert.Equal(t, code, 1)
	oneError(t, errs, "create", n)
	assert.Assert(t, strings.HasSuffix(errs, ": file exists\n"), errs)
	code, _, _ = runCLI("rm", n)
	assert.Equal(t, code, 0)
	code, _, errs = runCLI("info", n)
	assert.Equal(t, code, 1)
	oneError(t, errs, "info", n)
	assert.Assert(t, strings.Contains(errs, "no such file"), errs)
}

// rowOf returns ls's line for name.
func rowOf(t *testing.T, out, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	t.Fatalf("%s not in\n%s", name, out)
	return ""
}

func TestInfoBadSegment(t *testing.T) {
	t.Parallel()
	n := name(t)
	assert.NilError(t, os.WriteFile("/dev/shm/"+n, make([]byte, 700), 0o600))
	code, _, errs := runCLI("info", n)
	assert.Equal(t, code, 1)
	oneError(t, errs, "info", n)
	assert.Assert(t, strings.Contains(errs, "magic"), errs)
	code, _, errs = runCLI("rm", n)
	assert.Equal(t, code, 1)
	oneError(t, errs, "rm", n)
	_, err := os.Stat("/dev/shm/" + n)
	assert.NilError(t, err, "rm keeps what is not a SharedArray: %s", errs)
	code, _, _ = runCLI("rm", "--force", n)
	assert.Equal(t, code, 0)
	_, err = os.Stat("/dev/shm/" + n)
	assert.Assert(t, os.IsNotExist(err))
}

// rm --force removes regular files only: a directory, a symbolic link and
// a FIFO are kept.
func TestRmForceRegularOnly(t *testing.T) {
	t.Parallel()
	dir, link, fifo := name(t), name(t), name(t)
	assert.NilError(t, os.Mkdir("/dev/shm/"+dir, 0o700))
	t.Cleanup(func() { os.Remove("/dev/shm/" + dir) })
	assert.NilError(t, os.Symlink("/dev/null", "/dev/shm/"+link))
	assert.NilError(t, syscall.Mkfifo("/dev/shm/"+fifo, 0o600))
	for _, n := range []string{dir, link, fifo} {
		code, _, errs := runCLI("rm", "--force", n)
		assert.Equal(t, code, 1, n)
		oneError(t, errs, "rm", n)
		_, err := os.Lstat("/dev/shm/" + n)
		assert.NilError(t, err, "%s was removed", n)
	}
	// file:// too.
	f := filepath.Join(t.TempDir(), "junk")
	assert.NilError(t, os.WriteFile(f, []byte("not an array"), 0o600))
	code, _, errs := runCLI("rm", "--force", "file://"+f)
	assert.Equal(t, code, 0, errs)
	_, err := os.Stat(f)
	assert.Assert(t, os.IsNotExist(err))
}

// "--" ends the flags: every later argument is a name.
func TestRmDoubleDash(t *testing.T) {
	t.Parallel()
	a, b := name(t), "-"+name(t)
	cleanup(t, b)
	for _, n := range []string{a, b} {
		arr, err := sharedarray.Create(n, []int{1}, sharedarray.Uint8)
		assert.NilError(t, err)
		arr.Close()
	}
	code, _, errs := runCLI("rm", b)
	assert.Equal(t, code, 2, "a name like a flag needs --")
	assert.Assert(t, strings.HasPrefix(errs, "sharedarray: rm: unknown flag -"), errs)
	code, _, errs = runCLI("rm", "-\x1b[31m\xff")
	assert.Equal(t, code, 2)
	assert.Assert(t, strings.Contains(errs, `unknown flag -\x1b[31m\xff`) && !raw(errs), "%q", errs)
	code, out, errs := runCLI("rm", "--", a, b)
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, out, "deleted "+a+"\ndeleted "+b+"\n")
	code, _, errs = runCLI("rm", "--", "--force")
	assert.Equal(t, code, 1, "--force after -- is a name")
	oneError(t, errs, "rm", "--force")
}

func TestExportImport(t *testing.T) {
	t.Parallel()
	n, m := name(t), name(t)
	a, err := sharedarray.Create(n, []int{5, 2}, sharedarray.Int16)
	assert.NilError(t, err)
	defer a.Close()
	v, _ := sharedarray.View[int16](a)
	for i := range v {
		v[i] = int16(i * 3)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "snap.npy")
	assert.NilError(t, os.WriteFile(path, []byte("old"), 0o600))
	code, out, errs := runCLI("export", n, path)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "exported"))
	ents, _ := os.ReadDir(dir)
	assert.Equal(t, len(ents), 1, "no temporary file left: %v", ents)
	code, _, errs = runCLI("import", path, m, "--layout", "numpy2")
	assert.Equal(t, code, 0, errs)
	b, err := sharedarray.Attach(m)
	assert.NilError(t, err)
	defer b.Close()
	assert.Equal(t, b.Layout(), sharedarray.LayoutNumPy2)
	assert.DeepEqual(t, b.Bytes(), a.Bytes())
	code, _, errs = runCLI("import", path, m)
	assert.Equal(t, code, 1, "the name exists")
	oneError(t, errs, "import", m)
	code, _, errs = runCLI("export", "sharedarray-test-cli-none", path)
	assert.Equal(t, code, 1)
	oneError(t, errs, "export", "sharedarray-test-cli-none")

	// Errors name the user's path, not the temporary file.
	bad := filepath.Join(dir, "no-such-dir", "x.npy")
	code, _, errs = runCLI("export", n, bad)
	assert.Equal(t, code, 1)
	oneError(t, errs, "export", bad)
	assert.Assert(t, !strings.Contains(errs, "partial"), errs)
}

// import fails on an existing NAME before it opens FILE: here FILE does
// not even exist, and the error is about NAME.
func TestImportExistingNameFirst(t *testing.T) {
	t.Parallel()
	n := name(t)
	a, err := sharedarray.Create(n, []int{1}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	code, _, errs := runCLI("import", filepath.Join(t.TempDir(), "missing.npy"), n)
	assert.Equal(t, code, 1)
	oneError(t, errs, "import", n)
	assert.Assert(t, strings.HasSuffix(errs, ": file exists\n"), errs)
	// A FIFO with no writer would block an open: not opened either.
	fifo := filepath.Join(t.TempDir(), "fifo.npy")
	assert.NilError(t, syscall.Mkfifo(fifo, 0o600))
	code, _, _ = runCLI("import", fifo, n)
	assert.Equal(t, code, 1)
	// A missing file with a free name is about the file.
	free := name(t)
	missing := filepath.Join(t.TempDir(), "missing.npy")
	code, _, errs = runCLI("import", missing, free)
	assert.Equal(t, code, 1)
	oneError(t, errs, "import", missing)
}

// The progress reader hands out at most readChunk bytes a call, whatever
// the caller asks, so the bar moves in steps of 8 MiB.
func TestImportReadsInChunks(t *testing.T) {
	t.Parallel()
	var sizes []int
	r := readerFunc(func(b []byte) (int, error) {
		sizes = append(sizes, len(b))
		return len(b), nil
	})
	p := newProgress(io.Discard, "x", 1<<30)
	buf := make([]byte, 3*readChunk+5)
	n, err := io.ReadFull(p.reader(r), buf)
	assert.NilError(t, err)
	assert.Equal(t, n, len(buf))
	assert.DeepEqual(t, sizes, []int{readChunk, readChunk, readChunk, 5})
	assert.Equal(t, p.n.Load(), int64(len(buf)))
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"bogus"}, {"create", "x"}, {"create", "x", "3", "O"}, {"create", "x", "-1", "f8"},
		{"create", "x", "3", "f8", "--layout", "nope"}, {"create", "x", "3", "f8", "--perm", "9"}, {"info"}, {"rm"},
		{"ls", "extra"}, {"ls", "--nope"}, {"gc", "--older-than", "soon"}, {"gc", "--older-than", "-1h"}, {"gc", "[x"}} {
		code, _, errs := runCLI(args...)
		assert.Equal(t, code, 2, "%v", args)
		assert.Assert(t, strings.HasPrefix(errs, "sharedarray: ") || strings.HasPrefix(errs, "usage: "), "%v: %s", args, errs)
	}
	for _, c := range commands {
		code, out, _ := runCLI(c.name, "--help")
		assert.Equal(t, code, 0, c.name)
		assert.Assert(t, strings.Contains(out, "usage: sharedarray "+c.name), out)
		code, out2, _ := runCLI("help", c.name)
		assert.Equal(t, code, 0, c.name)
		assert.Equal(t, out2, out)
	}
	code, out, _ := runCLI("help")
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.Contains(out, "Commands:"))
}

// Help spells flags as the README does (--layout) and says which
// SharedArray builds each layout serves.
func TestHelpFlags(t *testing.T) {
	t.Parallel()
	_, out, _ := runCLI("create", "--help")
	assert.Assert(t, strings.Contains(out, "\n  --layout LAYOUT\n"), out)
	assert.Assert(t, strings.Contains(out, "\n  --perm OCTAL\n"), out)
	assert.Assert(t, !strings.Contains(out, "\n  -layout"), out)
	// Every layout the package has: they are numbered from 1, and String
	// names each one ParseLayout takes back.
	n := 0
	for l := sharedarray.Layout(1); ; l++ {
		if p, err := sharedarray.ParseLayout(l.String()); err != nil || p != l {
			break
		}
		assert.Assert(t, strings.Contains(out, fmt.Sprintf("%-9s %s", l, readers(l))), "%s missing:\n%s", l, out)
		n++
	}
	assert.Equal(t, n, 5)
	_, out, _ = runCLI("gc", "--help")
	for _, f := range []string{"--older-than DURATION", "--dry-run", "--all-layouts", "--force"} {
		assert.Assert(t, strings.Contains(out, "\n  "+f+"\n"), "%s:\n%s", f, out)
	}
	_, out, _ = runCLI("ls", "--help")
	assert.Assert(t, strings.Contains(out, "\n  -l\n"), out)
	assert.Assert(t, strings.Contains(out, "\n  --json\n"), out)
}

func TestParseShape(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]int{"3,4": {3, 4}, "640x480": {640, 480}, "(2, 3, 4)": {2, 3, 4}, "5": {5}, "(5,)": {5},
		"5,": {5}, "()": {}, "scalar": {}, "0": {0}, "10x0": {10, 0}, "0,10": {0, 10}, " 3 x 4 ": {3, 4}, "2X3": {2, 3}} {
		got, err := parseShape(in)
		assert.NilError(t, err, in)
		assert.DeepEqual(t, got, want)
	}
	for _, bad := range []string{"", " ", "x", ",,,", ",", "3,,4", "3x", "x3", "(3", "3)", "a", "3,-1", "+3", "3;4", "0x10", "0X10",
		"03", "1e3", "3 4", "99999999999999999999", "(,)", "(3,,)", "3,4," + "", "٣"} {
		if bad == "3,4," {
			continue // a trailing comma is allowed
		}
		_, err := parseShape(bad)
		assert.Assert(t, err != nil, "%q", bad)
	}
	// The command refuses them with exit 2 and creates nothing.
	for _, bad := range []string{"x", ",,,", "", "0x10"} {
		n := name(t)
		code, _, errs := runCLI("create", n, bad, "f8")
		assert.Equal(t, code, 2, bad)
		assert.Assert(t, strings.HasPrefix(errs, "sharedarray: create: bad shape "), errs)
		_, err := os.Stat("/dev/shm/" + n)
		assert.Assert(t, os.IsNotExist(err), bad)
	}
	n := name(t)
	code, out, errs := runCLI("create", n, "scalar", "f8")
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "<f8 (), 8 data bytes"), out)
}

func TestQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"frames":       "frames",
		"a-b_c.d,1+2":  "a-b_c.d,1+2",
		"café":         "café",
		"a b":          "'a b'",
		"it's":         `'it'\''s'`,
		"":             "''",
		"a\nb":         `$'a\nb'`,
		"\x1b[31mred":  `$'\E[31mred'`,
		"tab\there":    `$'tab\there'`,
		"\xff\xfe":     `$'\xff\xfe'`,
		"q'\x01":       `$'q\'\x01'`,
		"rtl\u202eexe": `$'rtl\xe2\x80\xaeexe'`,
		"\ufffd":       `$'\xef\xbf\xbd'`,
		"a\x7f":        `$'a\x7f'`,
	} {
		assert.Equal(t, quote(in), want, "%q", in)
	}
}

// Quoted names are what bash reads back as the name.
func TestQuoteShellRoundTrip(t *testing.T) {
	t.Parallel()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	for _, in := range []string{"frames", "a b", "it's", "a\nb", "\x1b[31mred", "\xff\xfe", "q'\x01\\", "rtl\u202eexe", "\ufffd", "x\x7f", "$HOME", "*", "~", "a\"b"} {
		out, err := exec.Command(bash, "-c", "printf %s "+quote(in)).Output()
		assert.NilError(t, err, "%q", in)
		assert.Equal(t, string(out), in, "%q quoted as %s", in, quote(in))
	}
}

// Names with control characters or bytes that are not UTF-8 never reach
// the terminal raw: ls, info, rm and error messages quote them; ls --json
// gives the exact bytes back.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	base := name(t)
	names := []string{base + "\nforged 1 2 3", base + "\x1b]0;title\x07", base + "\xff"}
	for _, n := range names {
		cleanup(t, n)
		code, out, errs := runCLI("create", n, "2", "u1")
		assert.Equal(t, code, 0, errs)
		assert.Assert(t, strings.HasPrefix(out, "created $'"), "%q", out)
		assert.Assert(t, !strings.Contains(out[:len(out)-1], "\n") && !raw(out), "%q", out)
	}
	code, out, _ := runCLI("ls")
	assert.Equal(t, code, 0)
	assert.Assert(t, !raw(out), "%q", out)
	for _, n := range names {
		assert.Assert(t, strings.Contains(out, "\n"+quote(n)+" "), "%q", out)
	}
	assert.Assert(t, !strings.Contains(out, "\nforged"), "%q", out)
	m := lsJSON(t)
	for _, n := range names {
		e, ok := m[n]
		assert.Assert(t, ok, "%q does not round-trip through ls --json", n)
		assert.Equal(t, e.NameBytes != nil, !utf8.ValidString(n), "%q", n)
	}
	code, out, _ = runCLI("info", names[0])
	assert.Equal(t, code, 0)
	assert.Assert(t, strings.HasPrefix(out, "name        "+quote(names[0])+"\n"), "%q", out)
	code, _, errs := runCLI("info", names[1]+"x")
	assert.Equal(t, code, 1)
	oneError(t, errs, "info", names[1]+"x")
	assert.Assert(t, !strings.ContainsAny(errs, "\x1b\x07"), "%q", errs)
	code, out, errs = runCLI(append([]string{"rm", "--"}, names...)...)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, !raw(out), "%q", out)
	assert.Equal(t, strings.Count(out, "\n"), 3, "%q", out)
}

// raw reports an escape, a bell or a byte that is not UTF-8 in s.
func raw(s string) bool {
	return strings.ContainsAny(s, "\x1b\x07") || strings.IndexByte(s, 0xff) >= 0
}

// Names of 254 and 255 bytes (NAME_MAX) work in every command, as in
// glibc and SharedArray; 256 is refused.
func TestNameMax(t *testing.T) {
	t.Parallel()
	base := name(t)
	for _, size := range []int{254, 255} {
		n := base + strings.Repeat("n", size-len(base))
		cleanup(t, n)
		for _, args := range [][]string{{"create", n, "3", "f4"}, {"info", n}, {"info", "shm://" + n}, {"rm", n}} {
			code, _, errs := runCLI(args...)
			assert.Equal(t, code, 0, "%d bytes, %s: %s", size, args[0], errs)
		}
	}
	n := base + strings.Repeat("n", 256-len(base))
	code, _, errs := runCLI("create", n, "3", "f4")
	assert.Equal(t, code, 1)
	oneError(t, errs, "create", n)
	assert.Assert(t, strings.Contains(errs, "NAME_MAX"), errs)
}

// ls counts the processes holding each array and names them with -l and
// --json; a process killed with SIGKILL stops holding its array.
func TestLsAttached(t *testing.T) {
	t.Parallel()
	n := name(t)
	a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	e := lsJSON(t)[n]
	assert.Equal(t, e.Attached, 0)
	assert.Equal(t, len(e.Holders), 0)
	h1, h2 := startHolder(t, n), startHolder(t, n)
	e = lsJSON(t)[n]
	assert.Equal(t, e.Attached, 2)
	pids := []int{e.Holders[0].PID, e.Holders[1].PID}
	assert.Assert(t, pids[0] < pids[1])
	assert.Assert(t, (pids[0] == h1.Process.Pid && pids[1] == h2.Process.Pid) || (pids[0] == h2.Process.Pid && pids[1] == h1.Process.Pid), "%v", pids)
	assert.Assert(t, e.Holders[0].Mapped && e.Holders[0].Command != "")
	_, out, _ := runCLI("ls")
	attached := strings.Fields(rowOf(t, out, n))[6]
	assert.Assert(t, attached == "2" || attached == "2+", "%q", attached)
	assert.Equal(t, attached == "2", e.AttachedComplete)
	_, out, _ = runCLI("ls", "-l")
	row := rowOf(t, out, n)
	assert.Assert(t, strings.Contains(row, fmt.Sprintf("%d/%s", h1.Process.Pid, quote(e.Holders[0].Command))), row)
	_, out, _ = runCLI("info", n)
	assert.Assert(t, strings.Contains(out, "\nattached    2"), out)

	assert.NilError(t, h1.Process.Signal(syscall.SIGKILL))
	h1.Wait()
	e = lsJSON(t)[n]
	assert.Equal(t, e.Attached, 1)
	assert.Equal(t, e.Holders[0].PID, h2.Process.Pid)
}

// setAge makes an array look last modified d ago (gc's age is mtime).
func setAge(t *testing.T, n string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	assert.NilError(t, os.Chtimes("/dev/shm/"+n, old, old))
}

func exists(n string) bool {
	_, err := os.Lstat("/dev/shm/" + n)
	return err == nil
}

// gc removes only the old arrays no process holds, of its own layouts
// unless --all-layouts; a SIGKILLed holder's array goes on the next run.
func TestGC(t *testing.T) {
	t.Parallel()
	mk := func(l sharedarray.Layout, age time.Duration) string {
		n := name(t)
		a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8, sharedarray.WithLayout(l))
		assert.NilError(t, err)
		a.Close()
		setAge(t, n, age)
		return n
	}
	oldFree := mk(sharedarray.LayoutDual, 2*time.Hour)
	oldHeld := mk(sharedarray.LayoutDual, 2*time.Hour)
	oldKilled := mk(sharedarray.LayoutDualV30, 2*time.Hour)
	young := mk(sharedarray.LayoutDual, 10*time.Minute)
	pyLayout := mk(sharedarray.LayoutNumPy2, 2*time.Hour)
	junk := name(t) // not a SharedArray: never gc's
	assert.NilError(t, os.WriteFile("/dev/shm/"+junk, make([]byte, 600), 0o600))
	setAge(t, junk, 48*time.Hour)
	startHolder(t, oldHeld)
	killed := startHolder(t, oldKilled)
	mine := []string{oldFree, oldHeld, oldKilled, young, pyLayout, junk}
	// gc runs only on this process's test arrays: other arrays in
	// /dev/shm are none of the test's business.
	removedOf := func(out string) []string {
		var got []string
		for _, l := range strings.Split(out, "\n") {
			for _, n := range mine {
				if strings.HasPrefix(l, "removed "+n+" ") || strings.HasPrefix(l, "would remove "+n+" ") {
					got = append(got, n)
				}
			}
		}
		return got
	}

	_, err := sharedarray.Holders(oldFree)
	full := err == nil
	assert.Assert(t, full || errors.Is(err, sharedarray.ErrPermission), "%v", err)
	args := []string{"gc", "--older-than", "1h", fmt.Sprintf("%s%d-*", testPrefix, os.Getpid())}
	if !full {
		// Some process here cannot be inspected (a sandbox's PID 1, say):
		// gc must refuse without --force.
		code, out, errs := runCLI(append(args, "--dry-run")...)
		assert.Equal(t, code, 1, errs)
		assert.DeepEqual(t, removedOf(out), []string(nil))
		assert.Assert(t, strings.Contains(errs, "could not be inspected"), errs)
		args = append(args, "--force")
	}

	code, out, errs := runCLI(append(args, "--dry-run")...)
	assert.Equal(t, code, 0, errs)
	assert.DeepEqual(t, removedOf(out), []string{oldFree})
	assert.Assert(t, exists(oldFree), "dry run removed it")

	assert.NilError(t, killed.Process.Signal(syscall.SIGKILL))
	killed.Wait()
	code, out, errs = runCLI(args...)
	assert.Equal(t, code, 0, errs)
	assert.DeepEqual(t, removedOf(out), []string{oldFree, oldKilled})
	assert.Assert(t, strings.Contains(errs, "--all-layouts includes them"), errs)
	for _, n := range []string{oldHeld, young, pyLayout, junk} {
		assert.Assert(t, exists(n), n)
	}
	assert.Assert(t, !exists(oldFree) && !exists(oldKilled))

	code, out, errs = runCLI(append(args, "--all-layouts")...)
	assert.Equal(t, code, 0, errs)
	assert.DeepEqual(t, removedOf(out), []string{pyLayout})
	assert.Assert(t, exists(oldHeld) && exists(young) && exists(junk))
}

func TestMatchAny(t *testing.T) {
	t.Parallel()
	assert.Assert(t, matchAny(nil, "x"))
	assert.Assert(t, matchAny([]string{"run42-*"}, "run42-a"))
	assert.Assert(t, matchAny([]string{"shm://run42-*"}, "run42-a"))
	assert.Assert(t, matchAny([]string{"a", "b?"}, "bc"))
	assert.Assert(t, !matchAny([]string{"run42-*"}, "run43-a"))
}

// rm goes on after a failure and exits 1; --flag=value works like
// --flag value.
func TestRmPartialAndFlagEquals(t *testing.T) {
	t.Parallel()
	n, missing := name(t), name(t)
	code, _, errs := runCLI("create", "--layout=numpy1", n, "2", "f8")
	assert.Equal(t, code, 0, errs)
	in, err := sharedarray.Stat(n)
	assert.NilError(t, err)
	assert.Equal(t, in.Layout, sharedarray.LayoutNumPy1)
	code, out, errs := runCLI("rm", missing, n)
	assert.Equal(t, code, 1)
	oneError(t, errs, "rm", missing)
	assert.Equal(t, out, "deleted "+n+"\n")
	assert.Assert(t, !exists(n))
}

// A process with the array open but not mapped is a holder marked (fd).
func TestLsOpenOnly(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("create", n, "2", "u1")
	assert.Equal(t, code, 0, errs)
	f, err := os.Open("/dev/shm/" + n)
	assert.NilError(t, err)
	defer f.Close()
	e := lsJSON(t)[n]
	assert.Equal(t, e.Attached, 1)
	assert.DeepEqual(t, e.Holders[0], lsHolder{PID: os.Getpid(), Command: e.Holders[0].Command, Open: true})
	_, out, _ := runCLI("ls", "-l")
	assert.Assert(t, strings.Contains(rowOf(t, out, n)+" ", fmt.Sprintf(" %d/%s(fd) ", os.Getpid(), quote(e.Holders[0].Command))), out)
}

func TestParseAge(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"1h": time.Hour, "90s": 90 * time.Second, "7d": 7 * 24 * time.Hour, "0": 0, "0d": 0} {
		got, err := parseAge(in)
		assert.NilError(t, err, in)
		assert.Equal(t, got, want, in)
	}
	for _, bad := range []string{"", "soon", "-1h", "-1d", "1.5d", "999999999999d"} {
		_, err := parseAge(bad)
		assert.Assert(t, err != nil, bad)
	}
}

// TestInfoHostileCorpus: info prints the reason for every crafted bad
// segment in ../../testdata/hostile and exits 1; rm keeps them.
func TestInfoHostileCorpus(t *testing.T) {
	t.Parallel()
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
		oneError(t, errs, "info", nm)
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
	t.Parallel()
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

// BenchmarkImportChunks compares import's reading, 8 MiB at a time
// through the progress counter, with LoadNPYFrom reading the file
// directly (the baseline), for a 256 MiB array.
func BenchmarkImportChunks(b *testing.B) {
	src := fmt.Sprintf("%s%d-bench-src", testPrefix, os.Getpid())
	a, err := sharedarray.Create(src, []int{256 << 20}, sharedarray.Uint8)
	if err != nil {
		b.Fatal(err)
	}
	defer sharedarray.Delete(src)
	path := filepath.Join(b.TempDir(), "x.npy")
	if err := a.SaveNPY(path); err != nil {
		b.Fatal(err)
	}
	a.Close()
	for _, mode := range []string{"direct", "chunked"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(256 << 20)
			for b.Loop() {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				var r io.Reader = f
				if mode == "chunked" {
					r = newProgress(io.Discard, "x", 256<<20).fileReader(f)
				}
				dst := fmt.Sprintf("%s%d-bench", testPrefix, os.Getpid())
				c, err := sharedarray.LoadNPYFrom(dst, r)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
				f.Close()
				sharedarray.Delete(dst)
			}
		})
	}
}

// import checks the file's size against its header before reserving: a
// tiny file claiming 1 TiB is refused at once, and nothing is created.
func TestImportShortFile(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("import", "../../testdata/npy-hostile/short-claims-1TiB.npy", n)
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "data section is 64 bytes"), errs)
	_, err := os.Stat("/dev/shm/" + n)
	assert.Assert(t, os.IsNotExist(err))
}

// create applies NumPy's shape rule: a zero dim does not hide an overflow.
func TestCreateTooBig(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("create", n, "0,4611686018427387904,4611686018427387904", "f8")
	assert.Equal(t, code, 1)
	assert.Assert(t, strings.Contains(errs, "array is too big"), errs)
	_, err := os.Stat("/dev/shm/" + n)
	assert.Assert(t, os.IsNotExist(err))
}

// An array left under Delete's private name (a Delete killed between its
// rename and its unlink) is removed by gc once it has been there longer
// than staleDeleteAge (the test passes 0 to runStale) and no process holds it; a younger one (a Delete
// still running) and a held one are kept, and a private name holding
// something that is not an array is kept and reported.
func TestGCStaleDeleteNames(t *testing.T) {
	t.Parallel()
	var made []string
	mk := func(valid bool) string {
		n := fmt.Sprintf("%s%x", deletePrefix, rand.Uint64())
		cleanup(t, n)
		made = append(made, n)
		if valid {
			a, err := sharedarray.Create(n, []int{4}, sharedarray.Uint8)
			assert.NilError(t, err)
			a.Close()
		} else {
			assert.NilError(t, os.WriteFile("/dev/shm/"+n, []byte("precious"), 0o600))
		}
		return n
	}
	free, held, junk := mk(true), mk(true), mk(false)
	// A name that merely starts with the prefix is someone's own array.
	own := deletePrefix + name(t)
	cleanup(t, own)
	a, err := sharedarray.Create(own, []int{4}, sharedarray.Uint8)
	assert.NilError(t, err)
	a.Close()
	startHolder(t, held)
	args := append([]string{"gc"}, append(made, own)...) // gc looks at these names only
	if _, err := sharedarray.Holders(free); err != nil {
		args = append(args, "--force") // some process here cannot be inspected
	}

	// Fresh: a Delete may still be running.
	code, out, errs := runCLI(args...)
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, out, "")
	assert.Assert(t, exists(free) && exists(held) && exists(junk))

	// As if a minute had passed: leftovers of any age count.
	runCLI := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := runStale(args, &out, &errb, 0)
		return code, out.String(), strings.ReplaceAll(errb.String(), "\n  ", " ")
	}
	code, out, errs = runCLI(append(args, "--dry-run")...)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "would remove "+free+" "), out)
	assert.Assert(t, exists(free))
	code, out, errs = runCLI(args...)
	assert.Equal(t, code, 0, errs)
	assert.Assert(t, strings.Contains(out, "removed "+free+" "), out)
	assert.Assert(t, !strings.Contains(out, held) && !strings.Contains(out, junk), out)
	assert.Assert(t, strings.Contains(errs, junk) && strings.Contains(errs, "kept"), errs)
	assert.Assert(t, !exists(free))
	assert.Assert(t, exists(held) && exists(junk) && exists(own))
	assert.Assert(t, !strings.Contains(out+errs, own), out+errs)
	got, err := os.ReadFile("/dev/shm/" + junk)
	assert.NilError(t, err)
	assert.Equal(t, string(got), "precious")

	// ls says they are there.
	_, _, errs = runCLI("ls")
	assert.Assert(t, strings.Contains(errs, "interrupted Delete"), errs)
}
