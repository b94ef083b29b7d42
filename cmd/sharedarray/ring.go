package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/sharedarray/sharedarray"
)

// lsRing is the "ring" object of an ls --json entry that is a frame ring.
type lsRing struct {
	Version     int    `json:"version"` // control block version: 2, or 1 (a ring of the previous release)
	Slots       int    `json:"slots"`
	Head        uint64 `json:"head"`
	Generation  uint64 `json:"generation"`
	WriterPID   int    `json:"writer_pid"` // 0: no live writer
	WriterAlive bool   `json:"writer_alive"`
	Readers     int    `json:"readers"`
	Waiting     uint32 `json:"waiting"`
}

// procSelfFD is where ringOf reopens the descriptor it checked (tests
// point it elsewhere to play a container without /proc).
var procSelfFD = "/proc/self/fd"

// ringBeforeProbe, when set (tests), runs before ringOf opens the file.
var ringBeforeProbe func(name string)

// ringOf returns the ring state of a listed array, or nil if it is not a
// ring. Only arrays with bytes between the data and the trailer can be. A
// ring that cannot be read (removed meanwhile, corrupt, truncated) returns
// the error; an array that is no ring returns nil, nil. StatRing is
// bounded (about 260 system calls), whatever locks other processes hold.
func ringOf(name string, in sharedarray.Info) (*lsRing, error) {
	if in.Size <= dataBytes(in)+int64(in.Layout.TrailerSize()) {
		return nil, nil
	}
	if ringBeforeProbe != nil {
		ringBeforeProbe(name)
	}
	// The state must be that of the file in describes, not of whatever
	// the name holds by now (another process may have renamed, swapped or
	// replaced it since List or Stat read it): open the name once, check
	// that it is that file, and have StatRing read this descriptor's file
	// through /proc/self/fd.
	var f *os.File
	var err error
	if p, ok := strings.CutPrefix(name, "file://"); ok {
		f, err = openProbe(p, true)
	} else {
		f, err = openProbe("/dev/shm/"+strings.TrimLeft(strings.TrimPrefix(name, "shm://"), "/"), false)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// The same file (device, inode) and size; not the same mtime: a
	// writer's first store into each page of its mapping moves the mtime
	// of a file in /dev/shm, so a ring being written would seem changed.
	if !sameFile(in, anyMtime{fi, in.ModTime}) {
		return nil, errors.New("the name holds another file, or the file was resized, since its trailer was read (changed while the command ran)")
	}
	fdName := fmt.Sprintf("file://%s/%d", procSelfFD, f.Fd())
	ri, err := sharedarray.StatRing(fdName)
	if errors.Is(err, sharedarray.ErrNotRing) {
		return nil, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		// The descriptor is open, so the file exists: /proc is missing
		// (not mounted in this container). Not "removed while ls ran".
		return nil, fmt.Errorf("cannot read it through %s (is /proc mounted?): %v", procSelfFD, err)
	}
	if err != nil {
		return nil, renamedError{strings.ReplaceAll(err.Error(), fdName, name), err}
	}
	return &lsRing{Version: ri.Version, Slots: ri.Slots, Head: ri.Head, Generation: ri.Generation, WriterPID: ri.WriterPID,
		WriterAlive: ri.WriterAlive, Readers: ri.Readers, Waiting: ri.Waiters}, nil
}

// anyMtime is a FileInfo with the modification time the Info has, so that
// sameFile compares device, inode and size only.
type anyMtime struct {
	fs.FileInfo
	mtime time.Time
}

func (a anyMtime) ModTime() time.Time { return a.mtime }

// renamedError is err with another message (the user's name in place of
// the /proc/self/fd path StatRing was given); errors.Is still sees err.
type renamedError struct {
	msg string
	err error
}

func (e renamedError) Error() string { return e.msg }
func (e renamedError) Unwrap() error { return e.err }

// short is ls's RING column: "s=4 h=1 w=1234 r=1" (slots, head, writer
// pid or "-" without a live writer, registered readers), so that a row
// with a ring fits 80 columns for names up to 12 bytes
// (TestRingShown); info prints String.
func (r *lsRing) short() string {
	w := "-"
	if r.WriterAlive {
		w = fmt.Sprint(r.WriterPID)
	}
	v := "" // the current version goes unmarked: the row must fit 80 columns
	if r.Version != 2 {
		v = fmt.Sprintf("v%d ", r.Version)
	}
	return fmt.Sprintf("%ss=%d h=%d w=%s r=%d", v, r.Slots, r.Head, w, r.Readers)
}

func (r *lsRing) String() string {
	w := "no writer"
	if r.WriterAlive {
		w = fmt.Sprintf("writer pid %d", r.WriterPID)
	}
	return fmt.Sprintf("v%d, %d slots, head %d, generation %d, %s, %d reader(s), %d waiting", r.Version, r.Slots, r.Head, r.Generation, w, r.Readers, r.Waiting)
}
