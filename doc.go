// Package sharedarray creates and attaches NumPy arrays in POSIX shared
// memory or in files, byte for byte in the format of the Python SharedArray
// extension, so Go and Python processes on one machine work on the same
// array with no copy and no serialisation.
//
// # Names
//
// An array is named like SharedArray names it: "shm://NAME" (or a bare
// NAME) is a POSIX shared memory object, /dev/shm/NAME on Linux;
// "file://PATH" is a regular file (relative to the working directory, or
// "file:///abs/path"). Names are checked before any system call: a '/'
// inside a shm name, "." and "..", NUL bytes, empty names, shm names and
// path components longer than 255 bytes (NAME_MAX) and file paths of 4096
// bytes or more (PATH_MAX) are refused with an error matching ErrInvalid.
//
// # Creating, attaching, deleting
//
//	a, err := sharedarray.Create("shm://frames", []int{64, 480, 640}, sharedarray.Uint8)
//	frames, err := sharedarray.View[uint8](a) // zero-copy []uint8
//	...
//	b, err := sharedarray.Attach("shm://frames") // in another process
//	err = sharedarray.Delete("shm://frames")     // mappings stay valid
//
// Every dtype SharedArray shares has a Dtype: the constants, and
// ParseDtype for NumPy's spellings ("S7", "U3", "V12" for the sized
// types). View gives the elements as Go values; float16 and long double
// elements, which Go has no type for, are the types of package numtype.
//
// In Python the same array is SharedArray.attach("shm://frames"). Arrays
// persist after every process exits until Delete (shm objects until
// reboot). Closing an Array unmaps it and never deletes it. Holders tells
// which processes map an array or have it open (from /proc, by device and
// inode), so leaked arrays can be told from used ones; the sharedarray
// command's gc removes the unheld ones.
//
// # Layouts
//
// SharedArray stores the array's dtype and shape in a trailer after the
// data, and its builds disagree on the trailer's size: 288 bytes (3.0.0),
// 292 (3.1 to 3.2.4 built against NumPy 1) and 548 (3.2.4 built against
// NumPy 2); no build reads another's. Create writes LayoutDual by default, a
// 548-byte trailer that carries a complete 292-byte one, so NumPy-1 and
// NumPy-2 builds of SharedArray 3.1+ both attach it. WithLayout picks
// another. Attach, Delete, Stat and List read every layout.
//
// # Frame rings
//
// CreateRing makes a ring of N frames in one segment of shape (N, *frame):
// one RingWriter fills slots in place (Next; FrameAs types them) and
// publishes them; any number of RingReaders, in Go or Python (python/ in
// the repository), wait for frames on a futex (Next, Latest, Read, until
// their context is done), never get a torn frame, and count the frames they lost when the
// writer, which never waits, laps them. SharedArray sees the frames as an
// ordinary array. docs/ring.md describes the protocol byte by byte.
//
// # Safety
//
// Attach copies the trailer out once and validates every field before
// mapping; a bad segment is a *FormatError naming the field, never a crash.
// Create builds the segment under no name and publishes it complete, so no
// process attaches a half-written array, and reserves its memory, so a full
// /dev/shm is an error at Create rather than a SIGBUS later. Before it
// reserves 64 MiB or more on a tmpfs it also checks the memory cgroup's
// limit and the host's MemAvailable, so a container short of memory gets a
// *SpaceError naming the limit rather than the OOM killer (CheckSpace asks
// the same question before creating; docs/containers.md has the details). Shapes NumPy refuses ("array is
// too big", even behind a zero dimension) are refused everywhere, so
// nothing written here crashes a Python reader. LoadNPY never trusts a
// header's size: a short file is refused before anything is reserved and
// a stream is reserved as it arrives. SaveNPY writes a new file and renames
// it over the old one; Delete removes only the file it validated. OS
// errors are
// *fs.PathError values, so errors.Is works with fs.ErrExist, fs.ErrNotExist
// and fs.ErrPermission.
//
// The data itself is shared with other processes and is not locked: the
// Array's methods are safe for concurrent use, Close included, but
// coordinating writers is the application's business. Close waits for the
// operations in progress on the Array (ReadAt, WriteAt, WriteNPY, Msync,
// Mlock, Munlock); those that start after it fail with ErrClosed. One
// lifetime rule covers every slice the package hands out (Bytes, View, a
// ring slot from Next, a frame given to a Read callback): it
// must not be used after Close of its Array, RingWriter or RingReader;
// touching it then faults rather than reaching the next array mapped, for
// as long as its range is among the most recently closed ones (see Array). If another process
// truncates a segment this process has mapped, touching the lost pages
// through a slice raises SIGBUS, which stops a Go program; ReadAt, WriteAt
// and WriteNPY (to any writer) return an error matching ErrFault instead.
// Create and Attach refuse to map near vm.max_map_count, leaving the Go
// runtime room, with an error saying how to raise it.
//
// docs/reliability.md, "Contract", states each of these exactly and names
// the test that checks it.
package sharedarray
