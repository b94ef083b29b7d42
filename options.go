package sharedarray

import "io/fs"

// An Option changes how Create, Attach, LoadNPY or SaveNPY work; each
// says which it applies to.
type Option func(options) options

type options struct {
	readOnly     bool
	layout       Layout
	perm         fs.FileMode
	sparse       bool
	skipMemCheck bool
	prefault     bool
	fsync        bool
	progress     func(written int64)

	// initTail, if set, initialises the bytes between the data and the
	// trailer (a ring's control block) before Create publishes the
	// segment; it is given the whole mapping.
	initTail func(mem []byte) error
}

func makeOptions(opts []Option) options {
	o := options{perm: 0o666}
	for _, opt := range opts {
		o = opt(o)
	}
	return o
}

// ReadOnly makes Attach open and map the segment read-only: Writable
// reports false, and a write through Bytes or a View faults (the Go
// runtime then stops the process, as for any write to read-only memory).
// A file the caller may only read can be attached this way.
func ReadOnly() Option { return func(o options) options { o.readOnly = true; return o } }

// WithLayout makes Create write layout l. Given to Attach, it makes Attach
// fail unless the segment has layout l.
func WithLayout(l Layout) Option { return func(o options) options { o.layout = l; return o } }

// WithPerm sets the permission bits Create gives a new segment, before the
// umask. The default is 0666, as SharedArray.
func WithPerm(perm fs.FileMode) Option {
	return func(o options) options { o.perm = perm.Perm(); return o }
}

// Sparse makes Create skip reserving the segment's memory. Create is then
// cheaper for large arrays mostly left untouched, but when /dev/shm (or the
// file system) fills up later, the first write to a page that has no room
// kills the writing process with SIGBUS, in Go and in Python alike.
func Sparse() Option { return func(o options) options { o.sparse = true; return o } }

// SkipMemoryCheck makes Create and LoadNPY reserve a segment of 64 MiB or
// more on a tmpfs (/dev/shm) without first checking it against the free
// space and the memory the process can get: its memory cgroup's limit (a
// container's) and the host's MemAvailable (see Limits.Check). Without it
// such a Create fails up front with a *SpaceError, since reserving the
// pages could wake the OOM killer. A full file system is still ENOSPC.
func SkipMemoryCheck() Option { return func(o options) options { o.skipMemCheck = true; return o } }

// Prefault makes Create map every page of the data up front (madvise
// MADV_POPULATE_WRITE), and Attach every page of the data the file holds
// (MADV_POPULATE_READ, extent by extent from SEEK_DATA), in one system
// call instead of one page fault per page on first touch. Attach never
// populates the trailer, any slack between data and trailer, or holes, so
// it never makes the file system allocate: a hostile file with a huge
// sparse tail costs nothing. It pays off a little for arrays that will be
// written whole and costs time for arrays that will not (an untouched
// reserved Create); docs/performance.md has the measured ratios. LoadNPY
// and WriteNPY always do it, since they touch every page. Kernels before
// 5.14 ignore it.
func Prefault() Option { return func(o options) options { o.prefault = true; return o } }

// Fsync makes SaveNPY flush the new file and its directory to stable
// storage before it returns, so the snapshot survives a power failure.
func Fsync() Option { return func(o options) options { o.fsync = true; return o } }

// OnProgress makes SaveNPY call f after each write with the number of
// bytes written so far (header included).
func OnProgress(f func(written int64)) Option {
	return func(o options) options { o.progress = f; return o }
}
