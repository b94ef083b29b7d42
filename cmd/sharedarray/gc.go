package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/sharedarray/sharedarray"
)

// gc removes the arrays in /dev/shm (those whose names match one of the
// PATTERNs, if any are given) that no process holds and that were
// last modified longer ago than --older-than. docs/cli.md states the rules;
// in short, an array is kept when:
//
//   - it is not a valid SharedArray (List skips it; rm --force is for those);
//   - its modification time is more recent than --older-than;
//   - its layout is one SharedArray itself writes (v30, numpy1, numpy2),
//     unless --all-layouts;
//   - any process maps it or has it open (/proc/*/maps and /proc/*/fd,
//     matched by device and inode);
//   - some process could not be inspected, unless --force;
//   - the file changed (another inode, size or mtime) between the holder
//     scan and the removal.
//
// What is left is removed with sharedarray.Delete, which validates the
// segment again.
func (c *cli) gc(args []string) int {
	for _, p := range args {
		if _, err := path.Match(strings.TrimPrefix(p, "shm://"), ""); err != nil {
			c.usageError("bad pattern %s: %v", quote(p), err)
			return exitUsage
		}
	}
	olderThan, err := parseAge(c.olderThan)
	if err != nil {
		c.usageError("%s", cause(err))
		return exitUsage
	}
	infos, err := sharedarray.List()
	if err != nil {
		return c.fail("/dev/shm", err)
	}
	now := time.Now()
	var cands []sharedarray.Info
	before := map[string]os.FileInfo{}
	otherLayouts, younger, matched, heldN, changed, acted, leftN := 0, 0, 0, 0, 0, 0, 0
	leftovers, bad := staleDeletes(now, c.staleAge)
	for _, b := range bad {
		if matchAny(args, b.name) {
			c.notef(b.name, "left by an interrupted Delete but %v; kept", cause(b.err))
		}
	}
	for _, in := range leftovers {
		if !matchAny(args, in.Name) {
			continue
		}
		if fi, err := os.Lstat("/dev/shm/" + in.Name); err == nil {
			before[in.Name] = fi
			cands = append(cands, in)
			leftN++
		}
	}
	for _, in := range infos {
		if !matchAny(args, in.Name) {
			continue
		}
		matched++
		if olderThan > 0 && now.Sub(in.ModTime) < olderThan {
			younger++
			continue
		}
		if !c.allLayouts && !ownLayout(in.Layout) {
			otherLayouts++
			continue
		}
		fi, err := os.Lstat("/dev/shm/" + in.Name)
		if err != nil {
			continue // gone
		}
		before[in.Name] = fi
		cands = append(cands, in)
	}
	held, complete, scanned, herr := holdersOf(cands)
	if !scanned {
		return c.fail("/proc", herr)
	}
	code, undecided := exitOK, 0
	for _, in := range cands {
		hs, ok := held[in.Name]
		switch {
		case !ok:
			continue // removed meanwhile
		case len(hs) > 0:
			heldN++
			continue
		case !complete && !c.force:
			undecided++
			continue
		}
		if fi, err := os.Lstat("/dev/shm/" + in.Name); err != nil || !sameFile(fi, before[in.Name]) {
			c.notef(in.Name, "changed while gc ran; kept")
			changed++
			continue
		}
		what := fmt.Sprintf("%s (%s %s, nbytes %d, layout %s, modified %s ago)", quote(in.Name), in.Dtype, shapeString(in.Shape),
			dataBytes(in), in.Layout, age(int64(now.Sub(in.ModTime).Seconds())))
		acted++
		if c.dryRun {
			fmt.Fprintf(c.stdout, "would remove %s\n", what)
			continue
		}
		if err := sharedarray.Delete(in.Name); err != nil {
			c.report(in.Name, err)
			code = exitFail
			continue
		}
		fmt.Fprintf(c.stdout, "removed %s\n", what)
	}
	if undecided > 0 {
		var ue *sharedarray.UninspectedError
		errors.As(herr, &ue)
		c.warnf("sharedarray: gc: kept %d unheld array(s): %s, and they may hold them (%s)",
			undecided, ue.Reason(), inspectHint(os.Geteuid()))
		code = exitFail
	}
	if otherLayouts > 0 {
		c.warnf("sharedarray: gc: did not consider %d array(s) in SharedArray's own layouts (v30, numpy1, numpy2); --all-layouts includes them", otherLayouts)
	}
	if acted == 0 {
		c.nothingToRemove(matched, leftN, younger, otherLayouts, heldN, undecided+changed, len(args) > 0)
	}
	return code
}

// nothingToRemove says, on stderr, what gc looked at and why none of it
// goes: a gc that prints nothing would leave the user guessing.
func (c *cli) nothingToRemove(matched, leftovers, younger, otherLayouts, held, kept int, patterns bool) {
	what := fmt.Sprintf("%d array(s) in /dev/shm", matched)
	if patterns {
		what = fmt.Sprintf("%d array(s) matching the patterns", matched)
	}
	if leftovers > 0 {
		what += fmt.Sprintf(" and %d left by an interrupted Delete", leftovers)
	}
	var why []string
	if younger > 0 {
		why = append(why, fmt.Sprintf("%d modified within --older-than %s", younger, c.olderThan))
	}
	if otherLayouts > 0 {
		why = append(why, fmt.Sprintf("%d in SharedArray's own layouts (--all-layouts)", otherLayouts))
	}
	if held > 0 {
		why = append(why, fmt.Sprintf("%d held by a process (sharedarray ls -l names it)", held))
	}
	if kept > 0 {
		why = append(why, fmt.Sprintf("%d kept as reported above", kept))
	}
	msg := "sharedarray: gc: nothing to remove: looked at " + what
	if len(why) > 0 {
		msg += ": " + strings.Join(why, ", ")
	}
	c.warnf("%s", msg)
}

// deletePrefix starts the private names sharedarray.Delete renames an
// array to before it unlinks it (".sharedarray-delete-" and up to 16 hex
// digits). List skips them; one that stays was left by a Delete killed
// between its rename and its unlink.
const deletePrefix = ".sharedarray-delete-"

// isDeleteName reports whether name is one Delete makes: deletePrefix
// and 1 to 16 lowercase hex digits. Other names that merely start with the
// prefix are someone's own files and are not gc's.
func isDeleteName(name string) bool {
	hex, ok := strings.CutPrefix(name, deletePrefix)
	if !ok || len(hex) == 0 || len(hex) > 16 {
		return false
	}
	for _, c := range []byte(hex) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// staleDeleteAge is how long a private delete name must have existed
// (since its status change: the rename) before gc takes it for a leftover:
// a running Delete holds one for microseconds.
const staleDeleteAge = time.Minute

type badLeftover struct {
	name string
	err  error
}

// staleDeletes returns the arrays in /dev/shm under Delete's private
// names that have been there longer than staleDeleteAge, and the names
// gc keeps because they do not hold a valid array (a file another
// process swapped in, which Delete failed to move back).
func staleDeletes(now time.Time, minAge time.Duration) (arrays []sharedarray.Info, bad []badLeftover) {
	entries, err := os.ReadDir("/dev/shm")
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		if !isDeleteName(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		if ctime, ok := changeTime("/dev/shm/" + e.Name()); !ok || now.Sub(ctime) < minAge {
			continue
		}
		in, err := sharedarray.Stat(e.Name())
		if err != nil {
			bad = append(bad, badLeftover{e.Name(), err})
			continue
		}
		arrays = append(arrays, in)
	}
	return arrays, bad
}

// inspectHint says what to do about uninspected processes: root can
// inspect every process of its own user namespace, so for root the ones
// left are outside it (or the container forbids it).
func inspectHint(euid int) string {
	if euid == 0 {
		return "even root cannot inspect them here; --force removes unheld arrays anyway"
	}
	return "run as root to inspect them, or --force"
}

// matchAny reports whether name matches one of the patterns (shell
// globs, shm:// allowed), or there are none.
func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(strings.TrimPrefix(p, "shm://"), name); ok {
			return true
		}
	}
	return len(patterns) == 0
}

// ownLayout reports the layouts only this library writes: an array in one
// of them was made by a Go program (or this command), not by SharedArray.
func ownLayout(l sharedarray.Layout) bool {
	return l == sharedarray.LayoutDual || l == sharedarray.LayoutDualV30
}

// sameFile reports whether two stats show the same, unmodified file.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// parseAge reads a Go duration (90s, 30m, 12h) or a number of days (7d).
func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int64
		days, err = strconv.ParseInt(n, 10, 64)
		if err == nil && days > int64(1<<63-1)/int64(24*time.Hour) {
			err = errors.New("too large")
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--older-than %s is not a duration like 90s, 30m, 12h or 7d", quote(s))
	}
	return d, nil
}
