package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gotest.tools/v3/assert"
)

// fits checks every line of a raw message or report: at most 80 columns,
// unless it is one word (a path) longer than that.
func fits(t *testing.T, what, s string) {
	t.Helper()
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		// Only a word longer than a line (a long path) may overflow it.
		assert.Assert(t, len(l) <= helpWidth || !strings.Contains(strings.TrimSpace(l), " "), "%s: a %d-column line: %q\n%s", what, len(l), l, s)
	}
}

// The CLI answers in its user's language: flags, not Go options; a
// suggestion for a near miss; the missing operand by name.
func TestCLIUserLanguage(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "--long"}, "sharedarray: ls: unknown flag --long; did you mean -l?\n"},
		{[]string{"ls", "--jsn"}, "sharedarray: ls: unknown flag --jsn; did you mean --json?\n"},
		{[]string{"gc", "--dryrun"}, "sharedarray: gc: unknown flag --dryrun; did you mean --dry-run?\n"},
		{[]string{"lsit"}, "sharedarray: unknown command lsit; did you mean ls?\n"},
		{[]string{"list"}, "sharedarray: unknown command list; did you mean ls?\n"},
		{[]string{"delete", "x"}, "sharedarray: unknown command delete; did you mean rm?\n"},
		{[]string{"create", "x", "3x4"}, "sharedarray: create: missing DTYPE (got NAME=x, SHAPE=3x4)\n"},
		{[]string{"create"}, "sharedarray: create: missing NAME, SHAPE and DTYPE\n"},
		{[]string{"export", "x"}, "sharedarray: export: missing FILE.npy (got NAME=x)\n"},
		{[]string{"info", "a", "b"}, "sharedarray: info: too many operands: b after NAME\n"},
		{[]string{"ls", "x"}, "sharedarray: ls: takes no operands; unexpected x\n"},
		{[]string{"rm"}, "sharedarray: rm: missing NAME: name the arrays to delete\n"},
		{[]string{"create", "x", "3", "f8", "--layout", "nope"}, "sharedarray: create: --layout nope is not a layout (want dual, dual-v30, numpy1,\n  numpy2 or v30; --help says which SharedArray builds read each)\n"},
	} {
		code, _, errs := runCLIRaw(c.args...)
		assert.Equal(t, code, exitUsage, "%v", c.args)
		assert.Assert(t, strings.HasPrefix(errs, c.want), "%v:\n%s", c.args, errs)
		assert.Assert(t, !strings.Contains(errs, "Commands:"), "%v: the whole help:\n%s", c.args, errs)
		fits(t, strings.Join(c.args, " "), errs)
	}
	// A letter that merely differs is no near miss: the operand hint stays.
	_, _, errs := runCLIRaw("ls", "-x")
	assert.Assert(t, strings.HasPrefix(errs, "sharedarray: ls: unknown flag -x (operands that start with '-' go after --)\n"), errs)
	_, _, errs = runCLIRaw("create", "x", "-1", "f8")
	assert.Assert(t, strings.HasPrefix(errs, "sharedarray: create: unknown flag -1 (operands that start with '-' go after --)\n"), errs)
}

// Help fits an 80-column terminal: the command list, every command's
// --help (its usage line wrapped under its first operand).
func TestHelpFits(t *testing.T) {
	t.Parallel()
	_, out, _ := runCLIRaw("--help")
	fits(t, "--help", out)
	for _, c := range commands {
		_, out, _ := runCLIRaw(c.name, "--help")
		fits(t, c.name+" --help", out)
	}
	_, out, _ = runCLIRaw("gc", "--help")
	assert.Assert(t, strings.HasPrefix(out, "usage: sharedarray gc [--older-than DURATION] [--dry-run] [--all-layouts]\n                      [--force] [PATTERN...]\n"), out)
}

// An array that does not fit is refused with one line per limit and the
// CLI's flag (--sparse), never the Go option (SkipMemoryCheck()); every
// line fits a terminal.
func TestSpaceErrorNamesFlags(t *testing.T) {
	t.Parallel()
	n := name(t)
	_, _, raw := runCLIRaw("create", n, "1024x1024x1024x1024x1024", "u1") // 1 PiB
	fits(t, "create", raw)
	code, _, errs := runCLI("create", n, "1024x1024x1024x1024x1024", "u1")
	assert.Equal(t, code, exitFail, errs)
	assert.Assert(t, !exists(n))
	assert.Assert(t, strings.HasPrefix(errs, "sharedarray: create "+n+": cannot allocate memory: the array needs 1.0 PiB - host memory (MemAvailable) has "), errs)
	assert.Assert(t, strings.Contains(raw, "\n  - host memory (MemAvailable) has "), raw)
	assert.Assert(t, strings.Contains(raw, "\n  --sparse skips the memory check"), raw)
	assert.Assert(t, !strings.Contains(errs, "()") && !strings.Contains(errs, "SkipMemoryCheck"), errs)
}

// export names no Go method: a symbolic link or a FIFO as the target is
// refused in words, and the message fits a terminal.
func TestExportMessagesNameNoGo(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("create", n, "3", "u1")
	assert.Equal(t, code, 0, errs)
	dir := t.TempDir()
	link := filepath.Join(dir, "l.npy")
	assert.NilError(t, os.Symlink(filepath.Join(dir, "t.npy"), link))
	code, _, errs = runCLIRaw("export", n, link)
	assert.Equal(t, code, exitFail)
	assert.Assert(t, strings.Contains(errs, "symbolic link") && !strings.Contains(errs, "SaveNPY"), errs)
}

// A name that does not exist: the message says where to look.
func TestNotFoundSaysWhatNext(t *testing.T) {
	t.Parallel()
	n := name(t)
	for _, op := range []string{"info", "rm"} {
		code, _, errs := runCLI(op, n)
		assert.Equal(t, code, exitFail)
		assert.Equal(t, errs, "sharedarray: "+op+" "+n+": no such file or directory ('sharedarray ls' lists the arrays in /dev/shm)\n")
	}
	code, _, errs := runCLI("info", "file:///nonexistent-dir/x")
	assert.Equal(t, code, exitFail)
	assert.Equal(t, errs, "sharedarray: info file:///nonexistent-dir/x: no such file or directory\n")
}

// gc that removes nothing says what it looked at and why nothing goes,
// on stderr; stdout stays empty for scripts.
func TestGCSaysWhyNothing(t *testing.T) {
	t.Parallel()
	n := name(t)
	code, _, errs := runCLI("create", n, "3", "u1")
	assert.Equal(t, code, 0, errs)
	for _, dry := range []bool{true, false} {
		args := []string{"gc", n}
		if dry {
			args = append(args, "--dry-run")
		}
		code, out, errs := runCLI(args...)
		assert.Equal(t, code, 0, errs)
		assert.Equal(t, out, "")
		assert.Equal(t, errs, "sharedarray: gc: nothing to remove: looked at 1 array(s) matching the patterns: 1 modified within --older-than 1h\n")
		assert.Assert(t, exists(n))
	}
	code, _, errs = runCLI("gc", "--dry-run", n+"-no-such-*")
	assert.Equal(t, code, 0, errs)
	assert.Equal(t, errs, "sharedarray: gc: nothing to remove: looked at 0 array(s) matching the patterns\n")
}

// fitLine breaks only at spaces and loses nothing: joining its
// continuation lines gives the message back, double spaces and all.
func TestFitLineLossless(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"short",
		strings.Repeat("word ", 40),
		"sharedarray: info 'a  b  c': " + strings.Repeat("x", 100) + " tail  with  doubles " + strings.Repeat("y ", 50),
		strings.Repeat("z", 200),
		"  " + strings.Repeat("q", 90) + "   r",
	} {
		got := fitLine(s)
		assert.Equal(t, strings.ReplaceAll(got, "\n  ", " "), s)
		for _, l := range strings.Split(got, "\n") {
			assert.Assert(t, len(l) <= helpWidth || !strings.Contains(strings.TrimLeft(l, " "), " "), "%q", l)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(400))
		for i := range b {
			b[i] = "ab  x"[r.IntN(5)]
		}
		s := string(b)
		assert.Equal(t, strings.ReplaceAll(fitLine(s), "\n  ", " "), s)
	}
}

// An error about a name with spaces keeps the name whole on its first
// line (so it can be copied), however long the message.
func TestFitMessageKeepsName(t *testing.T) {
	t.Parallel()
	n := name(t) + " with  spaces in it and more words to pass the width"
	code, _, raw := runCLIRaw("info", n)
	assert.Equal(t, code, exitFail)
	first, _, _ := strings.Cut(raw, "\n")
	assert.Assert(t, strings.HasPrefix(first, "sharedarray: info "+quote(n)+":"), "%q", raw)
	assert.Equal(t, strings.ReplaceAll(raw, "\n  ", " "), "sharedarray: info "+quote(n)+": no such file or directory ('sharedarray ls' lists the arrays in /dev/shm)\n")
	for _, keep := range []int{0, 5, 30, 79, 80, 120} {
		r := rand.New(rand.NewPCG(uint64(keep), 3))
		for range 500 {
			b := make([]byte, r.IntN(300))
			for i := range b {
				b[i] = "ab  x"[r.IntN(5)]
			}
			s := string(b)
			k := min(keep, len(s))
			got := breakLines(s, helpWidth, "  ", k)
			assert.Equal(t, strings.ReplaceAll(got, "\n  ", " "), s)
			assert.Assert(t, !strings.Contains(got[:min(k, len(got))], "\n"), "%q broken inside its first %d bytes: %q", s, k, got)
		}
	}
}
