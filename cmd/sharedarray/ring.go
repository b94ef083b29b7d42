package main

import (
	"errors"
	"fmt"

	"github.com/sharedarray/sharedarray"
)

// lsRing is the "ring" object of an ls --json entry that is a frame ring.
type lsRing struct {
	Slots       int    `json:"slots"`
	Head        uint64 `json:"head"`
	Generation  uint64 `json:"generation"`
	WriterPID   int    `json:"writer_pid"` // 0: no live writer
	WriterAlive bool   `json:"writer_alive"`
	Readers     int    `json:"readers"`
	Waiting     uint32 `json:"waiting"`
}

// ringOf returns the ring state of a listed array, or nil if it is not a
// ring. Only arrays with bytes between the data and the trailer can be. A
// ring that cannot be read (removed meanwhile, corrupt, truncated) returns
// the error; an array that is no ring returns nil, nil. StatRing is
// bounded (about 260 system calls), whatever locks other processes hold.
func ringOf(name string, in sharedarray.Info) (*lsRing, error) {
	if in.Size <= dataBytes(in)+int64(in.Layout.TrailerSize()) {
		return nil, nil
	}
	ri, err := sharedarray.StatRing(name)
	if errors.Is(err, sharedarray.ErrNotRing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &lsRing{Slots: ri.Slots, Head: ri.Head, Generation: ri.Generation, WriterPID: ri.WriterPID,
		WriterAlive: ri.WriterAlive, Readers: ri.Readers, Waiting: ri.Waiters}, nil
}

func (r *lsRing) String() string {
	w := "no writer"
	if r.WriterAlive {
		w = fmt.Sprintf("writer pid %d", r.WriterPID)
	}
	return fmt.Sprintf("%d slots, head %d, generation %d, %s, %d reader(s), %d waiting", r.Slots, r.Head, r.Generation, w, r.Readers, r.Waiting)
}
