package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/byteunit"
	"github.com/sharedarray/sharedarray/internal/hostinfo"
)

// doctorCommand is `sharedarray doctor`: a preflight to run in the
// container or pod that will share arrays. The checks are
// hostinfo.Read and hostinfo.Check (the rules of sharedarray.Create);
// this file only prints them.
var doctorCommand = &command{
	name:  "doctor",
	args:  "[--need SIZE] [--dir DIR] [--json]",
	short: "check whether an array of a given size would fit here",
	help:  "Check what limits the arrays this process can create: the /dev/shm mount, its size and free space, host memory, the memory cgroup limit, mappings against vm.max_map_count, RLIMIT_MEMLOCK, shmem huge pages, the arrays already there; with --need, whether an array of SIZE would fit and what would refuse it. Exit status 0 if everything asked fits, 1 if not.",
	run:   (*cli).doctor,
}

// doctorFlags declares doctor's flags on c.fs.
func (c *cli) doctorFlags() {
	c.fs.BoolVar(&c.json, "json", false, "print JSON (docs/containers.md has the fields)")
	c.fs.String("need", "", "check that an array of this `size` would fit: bytes, or a number with K, M, G or T (powers of 1024, as docker's --shm-size; KiB, Mi, ... also accepted)")
	c.fs.String("dir", "", "check this `directory` (a tmpfs or volume for file:// names) instead of /dev/shm")
}

// doctorReport is what doctor --json prints: the Limits, the room left,
// and the answer for --need.
type doctorReport struct {
	*hostinfo.Limits
	Room      int64     `json:"room"`       // largest array (--need SIZE) that fits now, -1 if no known limit
	RoomLimit string    `json:"room_limit"` // the limit that sets it
	Need      *int64    `json:"need,omitempty"`
	Fits      *bool     `json:"fits,omitempty"`
	Refused   []refusal `json:"refused,omitempty"` // each limit that refuses --need, tightest first
	Problems  []string  `json:"problems"`          // why the exit status is 1
	Warnings  []string  `json:"warnings"`          // Limits.Warnings, [] rather than absent when none
	err       error     // Check's answer
	dirErr    error     // why the directory cannot hold arrays: missing, not a directory
}

type refusal struct {
	Where string `json:"where"` // sharedarray.WhereFileSystem, WhereCgroup or WhereHostMemory
	Path  string `json:"path"`  // the directory or cgroup
	Avail int64  `json:"available"`
	Size  int64  `json:"size"` // the limit itself, -1 if unknown
	Fix   string `json:"fix"`  // what to change
}

func (c *cli) doctor(args []string) int {
	if !c.want(args, 0) {
		return exitUsage
	}
	need, needSet := int64(-1), false
	c.fs.Visit(func(f *flag.Flag) { needSet = needSet || f.Name == "need" })
	if needSet {
		s := c.fs.Lookup("need").Value.String()
		n, err := parseSize(s)
		if err != nil {
			c.usageError("--need %s: %v", quote(s), err)
			return exitUsage
		}
		need = n
	}
	l := hostinfo.Read(c.fs.Lookup("dir").Value.String())
	r := doctorReport{Limits: l, Problems: []string{}, Warnings: l.Warnings}
	if r.Warnings == nil {
		r.Warnings = []string{}
	}
	r.Room, r.RoomLimit = hostinfo.Room(l)
	if r.Room >= 0 {
		// Room counts the trailer; room is the largest --need that fits.
		r.Room = max(0, r.Room-int64(sharedarray.LayoutDual.TrailerSize()))
	}
	if st, err := os.Stat(l.Dir); err != nil {
		r.dirErr = err
	} else if !st.IsDir() {
		r.dirErr = &fs.PathError{Op: "stat", Path: l.Dir, Err: syscall.ENOTDIR}
	}
	switch {
	case r.dirErr != nil:
		r.Problems = append(r.Problems, visible(r.dirErr.Error()))
	case !l.Writable:
		r.Problems = append(r.Problems, fmt.Sprintf("%s cannot be written by this process", quote(l.Dir)))
	}
	if need >= 0 {
		seg := need + int64(sharedarray.LayoutDual.TrailerSize())
		if seg < need {
			seg = math.MaxInt64 // no array is that large: Check refuses it
		}
		r.Need = &need
		r.err = hostinfo.Check(l, seg)
		fits := r.err == nil
		r.Fits = &fits
		var se *sharedarray.SpaceError
		if errors.As(r.err, &se) {
			for _, e := range append([]*sharedarray.SpaceError{se}, se.Also...) {
				r.Refused = append(r.Refused, refusal{Where: e.Where, Path: e.Path, Avail: e.Avail, Size: e.Size, Fix: e.Fix})
			}
			r.Problems = append(r.Problems, fmt.Sprintf("an array of %s does not fit", bytesString(need)))
		}
	}
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return c.fail("", err)
		}
	} else {
		r.print(c.stdout)
	}
	if len(r.Problems) > 0 {
		return exitFail
	}
	return exitOK
}

// print writes the report for people.
func (r *doctorReport) print(w io.Writer) {
	l := r.Limits
	line := func(label, format string, a ...any) {
		text := visible(fmt.Sprintf(format, a...))
		// A line too long for 80 columns continues two spaces past the
		// value column.
		fmt.Fprintln(w, breakLines(fmt.Sprintf("%-14s %s", label, text), helpWidth, strings.Repeat(" ", 17), 0))
	}
	more := func(format string, a ...any) { line("", format, a...) }

	writable := "writable by this process"
	if !l.Writable {
		writable = "NOT writable by this process"
	}
	var pe *fs.PathError
	switch {
	case errors.As(r.dirErr, &pe):
		line("directory", "%s: %v", quote(l.Dir), pe.Err)
	case r.dirErr != nil:
		line("directory", "%s: %v", quote(l.Dir), r.dirErr)
	default:
		line("directory", "%s, %s", quote(l.Dir), writable)
	}
	if l.Mount.Point != "" {
		line("mount", "%s on %s (%s)", l.Mount.Type, l.Mount.Point, l.Mount.Options)
	}
	size := "unknown"
	switch {
	case l.FSFree < 0:
	case l.FSSize == 0:
		size = "no size limit"
	default:
		size = fmt.Sprintf("%s, %s free", bytesString(l.FSSize), bytesString(l.FSFree))
	}
	line("size", "%s", size)
	if l.FSMemory {
		more("memory-backed: arrays here use memory, so the memory limits below apply")
	} else if l.FSFree >= 0 {
		more("not memory-backed: only the file system's size limits arrays here")
	}

	if l.MemAvailable >= 0 {
		line("host memory", "%s available of %s (MemAvailable)", bytesString(l.MemAvailable), bytesString(l.MemTotal))
	} else {
		line("host memory", "unknown")
	}

	cg := l.Cgroup
	switch {
	case cg.Version == 0:
		line("cgroup", "none found for this process (no memory limit applies)")
	case cg.LimitPath == "" && !cg.Controller:
		line("cgroup", "v%d %s: no memory controller (no memory limit applies)", cg.Version, cg.Path)
	case cg.LimitPath == "":
		line("cgroup", "v%d %s: no memory limit", cg.Version, cg.Path)
	default:
		line("cgroup", "v%d %s", cg.Version, cg.Path)
		if cg.LimitPath != cg.Path {
			more("tightest limit set by %s", cg.LimitPath)
		}
		s := fmt.Sprintf("limit %s, %s used", bytesString(cg.Limit), bytesString(cg.Usage))
		if cg.Reclaimable > 0 {
			s += fmt.Sprintf(", %s reclaimable file cache", bytesString(cg.Reclaimable))
		}
		more("%s: %s available", s, bytesString(cg.Available))
	}

	if l.Mappings >= 0 && l.MaxMapCount > 0 {
		line("mappings", "%d of %d (vm.max_map_count); each attached array takes one", l.Mappings, l.MaxMapCount)
	} else {
		line("mappings", "unknown")
	}

	switch {
	case l.MemlockLimit < 0 && l.MemlockMax < 0:
		line("memlock", "unlimited (RLIMIT_MEMLOCK): any array can be locked in memory (mlock(2))")
	case l.MemlockLimit >= 0:
		hard := "unlimited"
		if l.MemlockMax >= 0 {
			hard = bytesString(l.MemlockMax)
		}
		line("memlock", "%s, hard limit %s (RLIMIT_MEMLOCK): locking a larger array in memory (mlock(2)) fails unless the process has CAP_IPC_LOCK", bytesString(l.MemlockLimit), hard)
	}

	thp := l.ShmemTHP
	if thp == "" {
		thp = "unknown"
	}
	huge := "no huge= option on this mount"
	for _, o := range strings.Split(l.Mount.Options, ",") {
		if v, ok := strings.CutPrefix(o, "huge="); ok {
			huge = "this mount has huge=" + v
		}
	}
	line("huge pages", "shmem_enabled %s; %s", thp, huge)

	line("arrays", "%d SharedArray(s) in %s, %s", l.Arrays, quote(l.Dir), bytesString(l.ArrayBytes))
	if r.Room >= 0 {
		line("room", "%s: the largest array that fits now, set by the %s", bytesString(r.Room), r.RoomLimit)
	} else {
		line("room", "no known limit")
	}
	if r.Need != nil {
		label := "need " + bytesString(*r.Need)
		switch {
		case r.err == nil && len(r.Problems) > 0:
			line(label, "fits the limits, but %s cannot hold arrays (see above)", quote(l.Dir))
		case r.err == nil:
			line(label, "fits")
		default:
			line(label, "does NOT fit:")
			for _, e := range r.Refused {
				s := e.Where
				if e.Path != "" {
					s += " " + e.Path
				}
				more("- %s has %s available: %s", s, bytesString(e.Avail), e.Fix)
			}
		}
	}
	for _, wmsg := range l.Warnings {
		line("warning", "%s", wmsg)
	}
}

// bytesString is a byte count with a binary unit.
func bytesString(n int64) string {
	if n < 0 {
		return "unknown"
	}
	return byteunit.Format(n)
}

// parseSize reads a size such as 268435456, 256M, 1.5G, 64Mi or 2GiB;
// every unit is a power of 1024.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "-") {
		return 0, errors.New("a size cannot be negative")
	}
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	shift := 0
	u := strings.TrimSuffix(strings.ToLower(unit), "b")
	if len(u) == 2 && u[1] == 'i' { // Ki, Mi, KiB, MiB, ...
		u = u[:1]
	}
	switch u {
	case "":
	case "k":
		shift = 10
	case "m":
		shift = 20
	case "g":
		shift = 30
	case "t":
		shift = 40
	default:
		return 0, fmt.Errorf("unknown unit %q (want K, M, G or T)", unit)
	}
	if num == "" {
		return 0, errors.New("no number")
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n > math.MaxInt64>>shift {
			return 0, errors.New("too large")
		}
		return n << shift, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", num)
	}
	v := f * float64(int64(1)<<shift)
	if v >= math.MaxInt64 {
		return 0, errors.New("too large")
	}
	return int64(math.Ceil(v)), nil
}
