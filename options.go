package sharedarray

import (
	"fmt"
	"io/fs"
	"strings"
)

// Options are one type, checked when used. Each Option knows the
// functions it applies to, and Create, CreateRing, LoadNPY/LoadNPYFrom,
// Attach, SaveNPY and OpenRingReader refuse any other with an error matching ErrInvalid
// that names the option and the function ("option Sparse applies to
// Create, CreateRing and LoadNPY, not Attach"): nothing given is ignored.
// Per-function option types (CreateOption, AttachOption, SaveOption) would
// make the mistake a compile error instead, but Prefault and WithLayout
// serve both Create and Attach, so they would need a fourth exported type
// or an unexported return type, and a caller's wrapper that forwards one
// option list to Create and to Attach would need two lists. The check is
// not data-dependent: the first call with a wrong option fails, every
// time, before it does anything. TestOptionsRefused proves the matrix
// each option's doc comment states.

// An Option changes how Create, CreateRing, LoadNPY (and LoadNPYFrom),
// Attach, SaveNPY or OpenRingReader work. Each option's doc says which of them it applies
// to; the others refuse it with an error matching ErrInvalid that names
// the option and the function. The zero Option is refused by all.
type Option struct {
	name  string                // as the caller wrote it: "Sparse"
	uses  uses                  // the functions it applies to
	apply func(options) options // by value: a pointer given to it would move every call's options to the heap
}

// uses is a set of the functions that take options.
type uses uint8

const (
	forCreate uses = 1 << iota // Create and CreateRing
	forLoad                    // LoadNPY and LoadNPYFrom
	forAttach
	forSave   // SaveNPY
	forReader // OpenRingReader
)

// names lists the functions of u, for messages.
func (u uses) names() string {
	var s []string
	for _, f := range []struct {
		u     uses
		names string
	}{{forCreate, "Create, CreateRing"}, {forLoad, "LoadNPY"}, {forAttach, "Attach"}, {forSave, "SaveNPY"}, {forReader, "OpenRingReader"}} {
		if u&f.u != 0 {
			s = append(s, f.names)
		}
	}
	all := strings.Join(s, ", ")
	if i := strings.LastIndex(all, ", "); i >= 0 {
		all = all[:i] + " and " + all[i+2:]
	}
	return all
}

type options struct {
	readOnly     bool
	layout       Layout
	perm         fs.FileMode
	sparse       bool
	skipMemCheck bool
	prefault     bool
	fsync        bool
	progress     func(written int64)
	reader       readerConfig // OpenRingReader's options (ring_wait.go)

	// initTail, if set, initialises the bytes between the data and the
	// trailer (a ring's control block) before Create publishes the
	// segment; it is given the new file's descriptor and the whole mapping.
	initTail func(fd int, mem []byte) error
}

func makeOptions(opts []Option) options {
	o := options{perm: 0o666}
	for _, opt := range opts {
		if opt.apply != nil {
			o = opt.apply(o)
		}
	}
	return o
}

// checkOptions returns an error matching ErrInvalid naming the first of
// opts, given to fn, that does not apply to it (u: the functions fn belongs
// with). It takes the slice as passed rather than keeping it in options:
// a slice stored there would make every caller's variadic slice escape (an
// allocation per Create, Attach and LoadNPY call that passes an option).
func checkOptions(opts []Option, fn string, u uses) error {
	for _, opt := range opts {
		if opt.apply == nil {
			return fmt.Errorf("a zero sharedarray.Option given to %s: %w", fn, ErrInvalid)
		}
		if opt.uses&u == 0 {
			return fmt.Errorf("option %s applies to %s, not %s: %w", opt.name, opt.uses.names(), fn, ErrInvalid)
		}
	}
	return nil
}

// ReadOnly makes Attach open and map the segment read-only: Writable
// reports false, and a write through Bytes or a View faults (the Go
// runtime then stops the process, as for any write to read-only memory).
// A file the caller may only read can be attached this way.
// It applies to Attach only.
func ReadOnly() Option {
	return Option{"ReadOnly", forAttach, func(o options) options { o.readOnly = true; return o }}
}

// WithLayout makes Create, CreateRing and LoadNPY write layout l. Given to
// Attach, it makes Attach fail unless the segment has layout l.
func WithLayout(l Layout) Option {
	return Option{"WithLayout", forCreate | forLoad | forAttach, func(o options) options { o.layout = l; return o }}
}

// WithPerm sets the permission bits Create, CreateRing and LoadNPY give a
// new segment, before the umask. The default is 0666, as SharedArray.
// Only perm.Perm() is used: setuid, setgid, sticky and type bits are
// dropped, never given to the segment.
func WithPerm(perm fs.FileMode) Option {
	return Option{"WithPerm", forCreate | forLoad, func(o options) options { o.perm = perm.Perm(); return o }}
}

// Sparse makes Create and CreateRing skip reserving the segment's memory.
// Create is then cheaper for large arrays mostly left untouched, but when
// /dev/shm (or the file system) fills up later, the first write to a page
// that has no room kills the writing process with SIGBUS, in Go and in
// Python alike. Given to LoadNPY, it skips reserving the segment up front
// (a stream of unknown length is otherwise reserved chunk by chunk); the
// import still writes every byte.
func Sparse() Option {
	return Option{"Sparse", forCreate | forLoad, func(o options) options { o.sparse = true; return o }}
}

// SkipMemoryCheck makes Create, CreateRing and LoadNPY reserve a segment
// of 64 MiB or more on a tmpfs (/dev/shm) without first checking it
// against the free space and the memory the process can get: its memory
// cgroup's limit (a container's) and the host's MemAvailable (see
// CheckSpace). Without it such a Create fails up front with a
// *SpaceError, since reserving the pages could wake the OOM killer. A full
// file system is still ENOSPC.
func SkipMemoryCheck() Option {
	return Option{"SkipMemoryCheck", forCreate | forLoad, func(o options) options { o.skipMemCheck = true; return o }}
}

// Prefault makes Create and CreateRing map every page of the data up front
// (madvise MADV_POPULATE_WRITE), and Attach every page of the data the
// file holds (MADV_POPULATE_READ, extent by extent from SEEK_DATA), in one
// system call instead of one page fault per page on first touch. Attach
// never populates the trailer, any slack between data and trailer, or
// holes, so it never makes the file system allocate: a hostile file with a
// huge sparse tail costs nothing. It pays off for arrays that will be
// written whole and costs time for arrays that will not;
// docs/performance.md has the runs. LoadNPY refuses it: an import always
// maps the pages it fills in one call. Kernels before 5.14 ignore it.
func Prefault() Option {
	return Option{"Prefault", forCreate | forAttach, func(o options) options { o.prefault = true; return o }}
}

// Fsync makes SaveNPY flush the new file and its directory to stable
// storage before it returns, so the snapshot survives a power failure.
// It applies to SaveNPY only.
func Fsync() Option {
	return Option{"Fsync", forSave, func(o options) options { o.fsync = true; return o }}
}

// OnProgress makes SaveNPY call f after each write with the number of
// bytes written so far (header included). It applies to SaveNPY only.
func OnProgress(f func(written int64)) Option {
	return Option{"OnProgress", forSave, func(o options) options { o.progress = f; return o }}
}
