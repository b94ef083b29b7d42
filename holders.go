package sharedarray

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"
)

// A Holder is a process that maps a segment or has a descriptor open on it,
// as Holders finds it in /proc.
type Holder struct {
	PID     int    // process ID
	Command string // the process's name, from /proc/PID/comm
	Mapped  bool   // the segment is in the process's memory maps
	Open    bool   // the process has a file descriptor open on it
}

// An UninspectedError reports processes whose memory maps or descriptors
// the caller may not read (another user's processes, or ones that made
// themselves undumpable, unless the caller is root). Any of them may hold
// the segments asked about, so the holders returned beside it are a lower
// bound. It matches ErrPermission.
//
// Hidden reports that /proc hides other users' processes from the caller
// (/proc mounted with hidepid=invisible or hidepid=ptraceable, and the
// caller neither in its gid= group nor holding CAP_SYS_PTRACE): they are
// not listed in /proc at all, so their number is unknown and PIDs cannot
// name them.
//
// Commands[i] is the name of process PIDs[i] (from /proc/PID/comm, which
// every user may read unless /proc is mounted hidepid=noaccess), or "" if
// it could not be read.
type UninspectedError struct {
	PIDs     []int    // the processes that could not be inspected, sorted
	Commands []string // their names, as Holder.Command; "" if unknown
	Hidden   bool     // /proc hides other users' processes from the caller
}

func (e *UninspectedError) Error() string {
	return "sharedarray: holders: " + e.reason()
}

// reason says which processes could not be inspected, without the
// "sharedarray: holders:" prefix: their number, and the first
// maxNamedPIDs of them by PID and name (PID 1 "init").
func (e *UninspectedError) reason() string {
	s := fmt.Sprintf("%d process(es) could not be inspected (permission denied)", len(e.PIDs))
	if len(e.PIDs) > 0 {
		var b strings.Builder
		for i, pid := range e.PIDs[:min(len(e.PIDs), maxNamedPIDs)] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "PID %d", pid)
			if i < len(e.Commands) && e.Commands[i] != "" {
				fmt.Fprintf(&b, " %q", e.Commands[i])
			}
		}
		if more := len(e.PIDs) - maxNamedPIDs; more > 0 {
			fmt.Fprintf(&b, " and %d more", more)
		}
		s += ": " + b.String()
	}
	if e.Hidden {
		h := "/proc hides other users' processes (hidepid)"
		if len(e.PIDs) == 0 {
			return h
		}
		s = h + ", and " + s
	}
	return s
}

// maxNamedPIDs is how many uninspected processes Reason names.
const maxNamedPIDs = 10

// Is makes errors.Is(err, ErrPermission) true.
func (e *UninspectedError) Is(target error) bool { return target == fs.ErrPermission }

// Holders returns the processes that map the named segment or hold a
// descriptor open on it, sorted by PID, from one pass over /proc/*/maps and
// /proc/*/fd. Processes are matched by the segment's device and inode
// number, not by path, so a holder is found after the segment is renamed
// or deleted while it still maps it; a process that attached, read and
// closed the array without keeping a mapping is not a holder. The caller's
// own process is included when it holds the segment. A process whose main
// thread has exited while other threads run (its /proc/PID/maps and
// /proc/PID/fd then read empty) is read through a live thread's
// /proc/PID/task/TID files, and is a holder like any other.
//
// When some processes cannot be inspected, or /proc hides other users'
// processes (hidepid), Holders returns what it found and an
// *UninspectedError (matching ErrPermission): the answer is then a lower
// bound, never a silent zero. Processes in other PID namespaces
// (other containers sharing /dev/shm) are not visible in /proc and are not
// reported at all. The answer is a snapshot: a process may attach or
// detach right after it is taken.
func Holders(name string) ([]Holder, error) {
	m, err := holdersOf([]string{name})
	if m == nil {
		return nil, err
	}
	hs, ok := m[name]
	if !ok {
		return nil, pathError("holders", name, syscall.ENOENT)
	}
	return hs, err
}

// HoldersOf does Holders' work for many arrays, as List or Stat described
// them, with a single pass over /proc, whatever their number. The holders
// reported for an Info are those of the very file List or Stat read
// (matched by its Dev and Ino), whatever its name holds now: the answer is
// about the same file as the rest of the Info (its age, its layout) even
// when another process renames, swaps (renameat2 RENAME_EXCHANGE) or
// replaces names meanwhile, and a file removed since is still reported
// with the processes that hold it. DeleteIfUnchanged then removes that
// file and no other.
//
// The answer is parallel to infos: element i holds the holders of
// infos[i] (empty, not nil, when nobody holds it), so no naming rule is
// needed: two Infos of one Name that describe different files (Stat
// called before and after the name was replaced) each get their own
// file's holders. An Info that List or Stat did not return (Dev and Ino
// zero: the zero Info, one built by hand) makes it return nil and an
// error matching ErrInvalid. An *UninspectedError comes with the complete
// answer, as with Holders.
//
// It is implemented on Linux only; elsewhere it returns an error wrapping
// errors.ErrUnsupported.
func HoldersOf(infos []Info) ([][]Holder, error) {
	targets := make(map[fileID][]string, len(infos))
	for _, in := range infos {
		id := in.id()
		if id == (fileID{}) {
			return nil, pathError("holders", in.Name, fmt.Errorf("the Info does not come from List or Stat: %w", ErrInvalid))
		}
		if _, ok := targets[id]; !ok {
			targets[id] = []string{id.key()}
		}
	}
	m, err := holdersOfFiles(targets)
	if m == nil {
		return nil, err
	}
	out := make([][]Holder, len(infos))
	for i, in := range infos {
		out[i] = m[in.id().key()]
	}
	return out, err
}

// fileID identifies a file: its device and inode numbers.
type fileID struct{ dev, ino uint64 }

// key names the file in holdersOfFiles' answer.
func (id fileID) key() string { return fmt.Sprintf("%d:%d", id.dev, id.ino) }
