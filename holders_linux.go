//go:build linux

package sharedarray

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// holdersOf finds the holders of the files at names (Holders' one name)
// in one pass over /proc; a name that does not exist is absent from the map.
func holdersOf(names []string) (map[string][]Holder, error) {
	targets := make(map[fileID][]string, len(names))
	for _, name := range names {
		loc, err := parseName(name)
		if err != nil {
			return nil, pathError("holders", name, err)
		}
		var st unix.Stat_t
		stat := unix.Stat // file:// follows links, as Attach does
		if loc.shm {
			stat = unix.Lstat // shm objects are opened with O_NOFOLLOW
		}
		if err := stat(loc.linkPrefix()+loc.path, &st); err != nil {
			if err == unix.ENOENT {
				continue // gone: absent from the map
			}
			return nil, pathError("holders", name, err)
		}
		id := fileID{uint64(st.Dev), uint64(st.Ino)} // uint32 on mips
		targets[id] = append(targets[id], name)
	}
	return holdersOfFiles(targets)
}

// holdersOfFiles finds the holders of the files targets names, by device
// and inode, in one pass over /proc. The map has an entry, possibly
// empty, for every name in targets.
func holdersOfFiles(targets map[fileID][]string) (map[string][]Holder, error) {
	if len(targets) == 0 { // HoldersOf of no Info: no pass over /proc
		return map[string][]Holder{}, nil
	}
	s := &holderScan{targets: targets, devs: map[uint64]bool{}}
	for id := range targets {
		s.devs[id.dev] = true
	}
	if err := s.run(); err != nil {
		return nil, err
	}
	out := make(map[string][]Holder, len(targets))
	for _, names := range s.targets {
		for _, name := range names {
			out[name] = []Holder{}
		}
	}
	for id, hs := range s.found {
		for _, name := range s.targets[id] {
			out[name] = hs
		}
	}
	hidden := procHidesOthers()
	if len(s.uninspected) > 0 || hidden {
		return out, &UninspectedError{PIDs: s.uninspected, Commands: s.commands, Hidden: hidden}
	}
	return out, nil
}

// procHidesOthers reports whether /proc hides other users' processes from
// this process: a /proc mounted with hidepid=2 (invisible) or hidepid=4
// (ptraceable) lists only the processes the caller may ptrace, unless it
// is in the mount's gid= group. With CAP_SYS_PTRACE it sees them all.
// (hidepid=1, noaccess, lists them but refuses to open their files: those
// are reported as uninspected by PID.)
func procHidesOthers() bool {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	status, _ := os.ReadFile("/proc/self/status")
	groups, _ := unix.Getgroups()
	return hidesOthers(mi, status, append(groups, unix.Getegid()))
}

// hidesOthers is procHidesOthers' decision from the text of
// /proc/self/mountinfo and /proc/self/status and the caller's groups.
func hidesOthers(mountinfo, status []byte, groups []int) bool {
	// The last /proc mount is the one on top.
	var opts []byte
	for _, line := range bytes.Split(mountinfo, []byte{'\n'}) {
		// id parent maj:min root mountpoint options [optional...] - fstype source superoptions
		f := bytes.Fields(line)
		sep := slices.IndexFunc(f, func(b []byte) bool { return string(b) == "-" })
		if len(f) < 5 || sep < 0 || len(f) < sep+4 || string(f[4]) != "/proc" || string(f[sep+1]) != "proc" {
			continue
		}
		opts = f[sep+3]
	}
	hides, gid := false, -1
	for _, o := range strings.Split(string(opts), ",") {
		switch k, v, _ := strings.Cut(o, "="); k {
		case "hidepid":
			hides = v == "2" || v == "invisible" || v == "4" || v == "ptraceable"
		case "gid":
			if n, err := strconv.Atoi(v); err == nil {
				gid = n
			}
		}
	}
	if !hides || gid >= 0 && slices.Contains(groups, gid) {
		return false
	}
	for _, line := range bytes.Split(status, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("CapEff:")); ok {
			caps, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 16, 64)
			const capSysPtrace = 19
			return err != nil || caps&(1<<capSysPtrace) == 0
		}
	}
	return true
}

// holderScan is one pass over /proc.
type holderScan struct {
	targets     map[fileID][]string
	devs        map[uint64]bool // the devices the targets live on
	found       map[fileID][]Holder
	uninspected []int
	commands    []string // the uninspected processes' names, "" if unknown
	buf         []byte   // reused for maps files and directory entries
}

// run reads /proc once, in PID order.
func (s *holderScan) run() error {
	s.found = map[fileID][]Holder{}
	s.buf = make([]byte, 64<<10)
	pids, err := s.pids()
	if err != nil {
		return pathError("holders", "/proc", err)
	}
	for _, pid := range pids {
		s.process(pid)
	}
	return nil
}

// pids lists the processes in /proc.
func (s *holderScan) pids() ([]int, error) {
	fd, err := unix.Open("/proc", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	names, err := dirNames(fd, s.buf)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// process inspects one process. Every file is read relative to one
// descriptor of /proc/PID, so a PID reused meanwhile is never mistaken for
// the process listed: the old descriptor then answers ENOENT or ESRCH and
// the process counts as exited. A process that exits meanwhile is skipped;
// one that cannot be read is recorded as uninspected, unless its stat shows
// a kernel thread or a process that is entirely a zombie (which hold no
// mapping and no descriptor). A process whose main thread has exited while
// other threads run (its leader is a zombie, or on its way there: its
// /proc/PID/maps and /proc/PID/fd read empty) is inspected through a live
// thread's /proc/PID/task/TID files.
func (s *holderScan) process(pid int) {
	dfd, err := unix.Open("/proc/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if !gone(err) {
			s.uninspect(pid, -1)
		}
		return
	}
	defer unix.Close(dfd)
	held := map[fileID]*Holder{}
	r := s.inspect(dfd, pid, held)
	if r == inspectEmpty || r == inspectDenied {
		switch st := readTaskStat(dfd, s.buf); {
		case st.gone:
			return
		case !st.ok:
			// stat unreadable (hidepid=noaccess): cannot tell.
			if r == inspectDenied {
				s.uninspect(pid, dfd)
			}
		case st.kthread:
			// Holds nothing.
		case st.threads > 1 && (st.zombie || r == inspectEmpty):
			// The main thread has exited (or is exiting: its memory
			// map is gone before it turns zombie); the other threads
			// share the process's memory and (unless one unshared it)
			// its descriptor table.
			clear(held)
			switch r = s.inspectThreads(dfd, pid, held); r {
			case inspectGone:
				return
			case inspectDenied:
				s.uninspect(pid, dfd)
			}
		case st.zombie:
			// Entirely a zombie: holds nothing.
		case r == inspectDenied:
			s.uninspect(pid, dfd)
		}
		// Left: a single-threaded process exiting (no memory map).
	}
	if r == inspectGone || len(held) == 0 {
		return
	}
	comm, _ := readSmallFileAt(dfd, "comm", s.buf)
	for id, h := range held {
		h.Command = strings.TrimSuffix(string(comm), "\n")
		s.found[id] = append(s.found[id], *h)
	}
}

// uninspect records pid as uninspected, with its command name when
// /proc/PID/comm (readable by everyone unless hidepid=noaccess) says it.
func (s *holderScan) uninspect(pid, dfd int) {
	s.uninspected = append(s.uninspected, pid)
	comm := ""
	if dfd >= 0 {
		if b, err := readSmallFileAt(dfd, "comm", s.buf); err == nil {
			comm = strings.TrimSuffix(string(b), "\n")
		}
	}
	s.commands = append(s.commands, comm)
}

// What inspect found.
const (
	inspectOK     = iota // read, with a non-empty memory map
	inspectEmpty         // read, but the memory map is empty
	inspectDenied        // maps or descriptors could not be read
	inspectGone          // the process (or thread) exited while read
)

// inspect reads the maps and descriptors in the /proc directory dfd (a
// process's or one of its threads'), adding what it holds to held.
func (s *holderScan) inspect(dfd, pid int, held map[fileID]*Holder) int {
	hold := func(id fileID) *Holder {
		h := held[id]
		if h == nil {
			h = &Holder{PID: pid}
			held[id] = h
		}
		return h
	}
	denied := false
	n, err := s.maps(dfd, func(id fileID) { hold(id).Mapped = true })
	switch {
	case err == nil:
	case gone(err):
		return inspectGone
	default:
		denied = true
	}
	switch err := s.fds(dfd, func(id fileID) { hold(id).Open = true }); {
	case err == nil:
	case gone(err):
		return inspectGone
	default:
		denied = true
	}
	switch {
	case denied:
		return inspectDenied
	case n == 0:
		return inspectEmpty
	}
	return inspectOK
}

// inspectThreads inspects a process whose main thread is a zombie through
// its first live thread in /proc/PID/task. It returns inspectGone when no
// thread is left (the process ended meanwhile). The number of threads
// tried is bounded by what one read of the task directory lists.
func (s *holderScan) inspectThreads(dfd, pid int, held map[fileID]*Holder) int {
	tfd, err := unix.Openat(dfd, "task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if gone(err) {
			return inspectGone
		}
		return inspectDenied
	}
	defer unix.Close(tfd)
	names, err := dirNames(tfd, s.buf)
	if err != nil {
		if gone(err) {
			return inspectGone
		}
		return inspectDenied
	}
	result := inspectGone
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err != nil || tid == pid {
			continue
		}
		fd, err := unix.Openat(tfd, n, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			if !gone(err) {
				result = inspectDenied
			}
			continue
		}
		r := s.inspect(fd, pid, held)
		unix.Close(fd)
		switch r {
		case inspectOK:
			return inspectOK
		case inspectDenied:
			result = inspectDenied
		}
		clear(held) // an exiting thread's partial answer
	}
	return result
}

// gone reports an error meaning the process exited while being read.
func gone(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH)
}

// taskStat is what /proc/PID/stat says about whether a process can hold
// anything.
type taskStat struct {
	ok, gone bool // read and understood; the process has exited
	kthread  bool // a kernel thread: no memory map, no descriptors
	zombie   bool // the main thread has exited (state Z or X)
	threads  int  // live threads, the zombie main thread included
}

// readTaskStat reads /proc/PID/stat through the /proc/PID descriptor dfd.
// Its fields are readable whatever the caller's permissions (unless
// hidepid=noaccess).
func readTaskStat(dfd int, buf []byte) taskStat {
	b, err := readSmallFileAt(dfd, "stat", buf[:min(len(buf), 1024)])
	if err != nil {
		return taskStat{gone: gone(err)}
	}
	return parseTaskStat(b)
}

// parseTaskStat reads the text of /proc/PID/stat.
func parseTaskStat(b []byte) taskStat {
	// pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
	// majflt cmajflt utime stime cutime cstime priority nice num_threads
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return taskStat{}
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 18 {
		return taskStat{}
	}
	flags, err1 := strconv.ParseUint(f[6], 10, 64)
	threads, err2 := strconv.Atoi(f[17])
	if err1 != nil || err2 != nil {
		return taskStat{}
	}
	const pfKthread = 0x00200000
	return taskStat{ok: true, kthread: flags&pfKthread != 0, zombie: f[0] == "Z" || f[0] == "X", threads: threads}
}

// readSmallFileAt reads up to len(buf) bytes of the file name in the
// directory dirfd.
func readSmallFileAt(dirfd int, name string, buf []byte) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return readUpTo(func(b []byte) (int, error) { return unix.Read(fd, b) }, buf)
}

// maps calls hit for each mapping of a target file in the maps file of
// the /proc directory dfd. It returns the length of the file: 0 for a
// process (or thread) without a memory map.
func (s *holderScan) maps(dfd int, hit func(fileID)) (int, error) {
	b, err := s.readAll(dfd, "maps")
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		line = bytes.TrimSuffix(line, []byte{'\n'})
		// start-end perms offset major:minor inode [path]
		var f [5][]byte
		n := 0
		for n < 5 {
			line = bytes.TrimLeft(line, " ")
			j := bytes.IndexByte(line, ' ')
			if j < 0 {
				j = len(line)
			}
			f[n], line = line[:j], line[j:]
			n++
		}
		if string(f[4]) == "0" || len(f[4]) == 0 {
			continue // anonymous
		}
		major, minor, ok := bytes.Cut(f[3], []byte{':'})
		if !ok {
			continue
		}
		ma, err1 := strconv.ParseUint(string(major), 16, 32)
		mi, err2 := strconv.ParseUint(string(minor), 16, 32)
		ino, err3 := strconv.ParseUint(string(f[4]), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		id := fileID{unix.Mkdev(uint32(ma), uint32(mi)), ino}
		if !s.devs[id.dev] {
			continue
		}
		if _, ok := s.targets[id]; ok {
			hit(id)
		}
	}
	return len(b), nil
}

// fds calls hit for each descriptor open on a target file in the fd
// directory of the /proc directory dfd.
func (s *holderScan) fds(dfd int, hit func(fileID)) error {
	fd, err := unix.Openat(dfd, "fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	names, err := dirNames(fd, s.buf)
	if err != nil {
		return err
	}
	for _, n := range names {
		id, ok := fdTarget(fd, n)
		if !ok || !s.devs[id.dev] {
			continue
		}
		if _, ok := s.targets[id]; ok {
			hit(id)
		}
	}
	return nil
}

// statxWorks is cleared when statx is missing (Linux before 4.11, or a
// seccomp filter refusing it).
var statxWorks atomic.Bool

func init() { statxWorks.Store(true) }

// fdTarget returns the device and inode of the file open as descriptor
// name in the fd directory dirfd. Following the link reaches the open file
// itself without a lookup; statx with AT_STATX_DONT_SYNC then answers
// from what the kernel has cached (device and inode never change), so a
// file on a network or FUSE file system whose server does not answer
// cannot stall the scan where a plain stat would wait for it.
func fdTarget(dirfd int, name string) (fileID, bool) {
	if statxWorks.Load() {
		var stx unix.Statx_t
		err := unix.Statx(dirfd, name, unix.AT_STATX_DONT_SYNC, unix.STATX_INO, &stx)
		if err == nil {
			return fileID{unix.Mkdev(stx.Dev_major, stx.Dev_minor), stx.Ino}, true
		}
		if err != unix.ENOSYS && err != unix.EPERM {
			return fileID{}, false
		}
		statxWorks.Store(false)
	}
	var st unix.Stat_t
	if unix.Fstatat(dirfd, name, &st, 0) != nil {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino)}, true // uint32 on mips
}

// readAll reads the whole file name in the directory dirfd into s.buf,
// growing it as needed.
func (s *holderScan) readAll(dirfd int, name string) ([]byte, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		m, err := unix.Read(fd, s.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m == 0 {
			return s.buf[:n], nil
		}
		n += m
	}
}

// dirNames lists a directory's entries other than "." and "..".
func dirNames(dirfd int, buf []byte) ([]string, error) {
	var names []string
	err := readDirents(dirfd, buf, func(b []byte) {
		_, _, names = unix.ParseDirent(b, -1, names)
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// readDirents reads the directory dirfd to its end with getdents64 into
// buf, retrying on EINTR, and hands each batch of records to each.
func readDirents(dirfd int, buf []byte, each func(records []byte)) error {
	for {
		n, err := unix.Getdents(dirfd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n <= 0 {
			return nil
		}
		each(buf[:n])
	}
}
