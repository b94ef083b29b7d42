package sharedarray

import (
	"context"
	"testing"
	"time"
)

// Test-only shorthands for the ring tests, which predate the context-only
// API (issue 17): a wait with a timeout, and the publish-time switch,
// unexported since no user scenario needs it.

// ErrTimeout is what nextTimeout's waits end with.
var ErrTimeout = context.DeadlineExceeded

// NextTimeout is Next with a timeout.
func (rd *RingReader) NextTimeout(d time.Duration, dst []byte) (FrameInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return rd.Next(ctx, dst)
}

// LatestTimeout is Latest with a timeout.
func (rd *RingReader) LatestTimeout(d time.Duration, dst []byte) (FrameInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return rd.Latest(ctx, dst)
}

// SetPublishTime is setPublishTime.
func (w *RingWriter) SetPublishTime(on bool) { w.setPublishTime(on) }

// ringGeneration returns the named ring's generation, as StatRing reads it.
func ringGeneration(t *testing.T, name string) uint64 {
	t.Helper()
	info, err := StatRing(name)
	if err != nil {
		t.Fatal(err)
	}
	return info.Generation
}
