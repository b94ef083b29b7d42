package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
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
//     or a live thread's /proc/*/task/*/ when the main thread has exited;
//     matched by device and inode);
//   - some process could not be inspected, unless --force;
//   - the name holds another file, or the file changed (another inode,
//     size or mtime), by the time of the removal.
//
// Every check is about the file List read (its device and inode), not
// its name: holders are those of that file (HoldersOf), and it is
// removed with sharedarray.DeleteIfUnchanged, which moves the name aside,
// checks it is that file, unchanged, and unlinks it or moves it back.
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
	otherLayouts, younger, matched, heldN, changed, acted, leftN := 0, 0, 0, 0, 0, 0, 0
	leftovers, bad := staleDeletes(now, c.staleAge)
	for _, b := range bad {
		if matchAny(args, b.name) {
			c.notef(b.name, "left by an interrupted Delete but %v; kept", cause(b.err))
		}
	}
	for _, in := range leftovers {
		if matchAny(args, in.Name) {
			cands = append(cands, in)
			leftN++
		}
	}
	// Each Info is the file List read: its age, its layout, its holders
	// and the removal all concern that file (device and inode), whatever
	// its name holds meanwhile.
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
		cands = append(cands, in)
	}
	held, complete, scanned, herr := holdersOf(cands)
	if !scanned {
		return c.fail("/proc", herr)
	}
	code, undecided := exitOK, 0
	for _, in := range cands {
		switch {
		case len(held[in.Name]) > 0:
			heldN++
			continue
		case !complete && !c.force:
			undecided++
			continue
		}
		what := fmt.Sprintf("%s (%s %s, nbytes %d, layout %s, modified %s ago)", quote(in.Name), in.Dtype, shapeString(in.Shape),
			dataBytes(in), in.Layout, age(int64(now.Sub(in.ModTime).Seconds())))
		if c.dryRun {
			acted++
			fmt.Fprintf(c.stdout, "would remove %s\n", what)
			continue
		}
		if gcBeforeDelete != nil {
			gcBeforeDelete(in.Name)
		}
		switch err := sharedarray.DeleteIfUnchanged(in); {
		case errors.Is(err, syscall.ESTALE) || errors.Is(err, syscall.ELOOP):
			// Swapped, replaced (by a symbolic link, say) or modified
			// since List read it: what was checked is not what the name
			// holds.
			c.notef(in.Name, "changed while gc ran; kept")
			changed++
		case errors.Is(err, sharedarray.ErrNotExist):
			c.notef(in.Name, "removed or renamed by another process while gc ran")
			changed++
		case err != nil:
			c.report(in.Name, err)
			code = exitFail
			acted++
		default:
			fmt.Fprintf(c.stdout, "removed %s\n", what)
			acted++
		}
	}
	if undecided > 0 {
		var ue *sharedarray.UninspectedError
		errors.As(herr, &ue)
		c.warnf("sharedarray: gc: kept %d unheld array(s): %s, and they may hold them (%s)",
			undecided, uninspectedReason(ue), inspectHint(os.Geteuid()))
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

// gcBeforeDelete, when a test sets it, runs just before gc removes the
// array name, after every check.
var gcBeforeDelete func(name string)

// uninspectedReason says which processes could not be inspected, naming
// the first few by PID and command (quoted as names are), so the operator
// knows what --force waives.
func uninspectedReason(ue *sharedarray.UninspectedError) string {
	if ue == nil {
		return "some processes could not be inspected"
	}
	var parts []string
	if ue.Hidden {
		parts = append(parts, "/proc hides other users' processes (hidepid)")
	}
	if n := len(ue.PIDs); n > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%d process(es) could not be inspected (permission denied): ", n)
		for i, pid := range ue.PIDs[:min(n, maxNamedPIDs)] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "PID %d", pid)
			if i < len(ue.Commands) && ue.Commands[i] != "" {
				b.WriteString(" (" + quote(ue.Commands[i]) + ")")
			}
		}
		if n > maxNamedPIDs {
			fmt.Fprintf(&b, " and %d more", n-maxNamedPIDs)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, ", and ")
}

// maxNamedPIDs is how many uninspected processes a message names.
const maxNamedPIDs = 10

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
		stale := func() bool {
			fi, err := os.Lstat("/dev/shm/" + e.Name())
			if err != nil {
				return false
			}
			ctime, ok := changeTime(fi)
			return ok && now.Sub(ctime) >= minAge
		}
		if !stale() {
			continue
		}
		in, err := sharedarray.Stat(e.Name())
		if err != nil {
			bad = append(bad, badLeftover{e.Name(), err})
			continue
		}
		// The age must be that of the file Stat read (which gc removes,
		// if at all): check again, on it.
		if fi, err := os.Lstat("/dev/shm/" + e.Name()); err != nil || !sameFile(in, fi) || !stale() {
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
