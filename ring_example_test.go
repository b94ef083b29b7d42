package sharedarray_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sharedarray/sharedarray"
)

// A writer fills slots in place and publishes them; a reader (here in the
// same process, usually in another one, in Go or in Python) waits for each.
func ExampleCreateRing() {
	name := "shm://" + exampleName("ring")
	w, err := sharedarray.CreateRing(name, 4, []int{2, 3}, sharedarray.Float32)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer w.Close()

	r, err := sharedarray.OpenRingReader(name) // starts at the next frame
	if err != nil {
		panic(err)
	}
	defer r.Close()

	for i := range 3 {
		slot, _ := w.Next()                                                // the slot itself, 24 bytes
		frame, _ := sharedarray.FrameAs[float32](w.Geometry().Dtype, slot) // as 6 float32
		for j := range frame {
			frame[j] = float32(10*i + j)
		}
		w.Publish() // readers asleep on the ring wake up
	}

	var g sharedarray.RingGeometry = r.Geometry() // what the frames are
	fmt.Println(g.Slots, g.FrameShape, g.Dtype, g.FrameBytes)
	buf := make([]byte, g.FrameBytes)
	for range 3 {
		info, err := r.Next(context.Background(), buf)
		if err != nil {
			panic(err)
		}
		v, _ := sharedarray.FrameAs[float32](g.Dtype, buf)
		fmt.Println(info.Seq, v)
	}
	// Waits end with their context: here a timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = r.Next(ctx, buf)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))

	// To SharedArray (and Attach) the ring is an ordinary array.
	a, _ := sharedarray.Attach(name)
	defer a.Close()
	fmt.Println(a.Shape())
	// Output:
	// 4 [2 3] <f4 24
	// 0 [0 1 2 3 4 5]
	// 1 [10 11 12 13 14 15]
	// 2 [20 21 22 23 24 25]
	// true
	// [4 2 3]
}

// The writer never waits: a reader that falls more than a ring behind is
// told how many frames it lost, and gets the oldest frame still there.
func ExampleRingReader_Next_overrun() {
	name := exampleName("ring-overrun")
	w, _ := sharedarray.CreateRing(name, 4, []int{1}, sharedarray.Int64)
	defer sharedarray.Delete(name)
	defer w.Close()
	r, _ := sharedarray.OpenRingReader(name)
	defer r.Close()

	for i := range 10 {
		b, _ := w.Next()
		slot, _ := sharedarray.FrameAs[int64](sharedarray.Int64, b)
		slot[0] = int64(i * i)
		w.Publish()
	}
	buf := make([]byte, 8)
	info, _ := r.Next(context.Background(), buf)
	v, _ := sharedarray.FrameAs[int64](sharedarray.Int64, buf)
	fmt.Println("frame", info.Seq, "=", v[0], "after", info.Overruns, "lost; total", r.Overruns())
	info, _ = r.Latest(context.Background(), buf)
	fmt.Println("latest", info.Seq)
	// Output:
	// frame 6 = 36 after 6 lost; total 6
	// latest 9
}

// Read hands the frame to a callback in place, with no copy, and checks
// afterwards that the writer did not overwrite it meanwhile.
func ExampleRingReader_Read() {
	name := exampleName("ring-read")
	w, _ := sharedarray.CreateRing(name, 2, []int{4}, sharedarray.Uint8)
	defer sharedarray.Delete(name)
	defer w.Close()
	r, _ := sharedarray.OpenRingReader(name)
	defer r.Close()

	w.Write([]byte{1, 2, 3, 4})
	var sum int
	_, err := r.Read(context.Background(), func(info sharedarray.FrameInfo, frame []byte) error {
		for _, b := range frame {
			sum += int(b)
		}
		return nil
	})
	if errors.Is(err, sharedarray.ErrOverrun) {
		sum = 0 // overwritten while we read: discard
	}
	fmt.Println(sum, err)
	// Output: 10 <nil>
}

// A second writer is refused while the first lives; when a writer closes
// or dies (the kernel drops its lock), the next one takes over.
func ExampleOpenRingWriter() {
	name := exampleName("ring-writer")
	w, _ := sharedarray.CreateRing(name, 2, []int{1}, sharedarray.Uint8)
	defer sharedarray.Delete(name)
	w.Write([]byte{7})

	_, err := sharedarray.OpenRingWriter(name)
	fmt.Println(errors.Is(err, sharedarray.ErrBusy))
	w.Close()

	w2, _ := sharedarray.OpenRingWriter(name)
	defer w2.Close()
	info, _ := sharedarray.StatRing(name)
	fmt.Println(info.Generation, w2.Seq())
	fmt.Println(info.Slots, info.Head, info.WriterAlive)
	// Output:
	// true
	// 2 1
	// 2 1 true
}

// A reader of a periodic source (a camera, a sensor) that wants each frame
// within microseconds of its publication, without spinning a whole core:
// WithPredict learns the frame period and wakes just before each frame is
// due. WithSpin(d) instead polls up to d before sleeping, whatever the
// source; WithOldest starts a late reader at the oldest frame still in
// the ring. FrameInfo.Time is CLOCK_MONOTONIC (unix.ClockGettime, or
// Python's time.monotonic_ns()): now minus Time is how old a frame is
// (here, frames older than 50 ms are dropped).
func ExampleWithPredict() {
	name := exampleName("ring-predict")
	w, _ := sharedarray.CreateRing(name, 8, []int{4}, sharedarray.Uint8)
	defer sharedarray.Delete(name)
	defer w.Close()
	r, _ := sharedarray.OpenRingReader(name, sharedarray.WithPredict(), sharedarray.WithOldest())
	defer r.Close()

	go func() { // the camera: a frame every 2 ms
		for i := range 20 {
			time.Sleep(2 * time.Millisecond)
			w.Write([]byte{byte(i), 0, 0, 0})
		}
	}()
	buf := make([]byte, r.Geometry().FrameBytes)
	fresh := 0
	for range 20 {
		info, err := r.Next(context.Background(), buf)
		if err != nil {
			panic(err)
		}
		var now unix.Timespec
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &now)
		age := time.Duration(now.Nano() - info.Time)
		if age > 50*time.Millisecond {
			continue // stale: drop it
		}
		fresh++
	}
	fmt.Println(fresh > 0, r.Overruns())
	// Output: true 0
}

// A reader may start before its writer: WaitForRing makes OpenRingReader
// wait for the ring to be created. WithSpin(d) makes each wait poll the
// ring for up to d before sleeping: microseconds instead of a wake-up, at
// up to d of CPU per frame.
func ExampleWaitForRing() {
	name := exampleName("ring-wait")
	defer sharedarray.Delete(name)
	opened := make(chan *sharedarray.RingReader)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, err := sharedarray.OpenRingReader(name, sharedarray.WaitForRing(ctx), sharedarray.WithSpin(100*time.Microsecond))
		if err != nil {
			panic(err)
		}
		opened <- r
	}()
	time.Sleep(10 * time.Millisecond) // the writer starts later
	w, _ := sharedarray.CreateRing(name, 4, []int{1}, sharedarray.Uint8)
	defer w.Close()
	r := <-opened
	defer r.Close()
	w.Write([]byte{42})
	buf := make([]byte, 1)
	info, _ := r.Next(context.Background(), buf)
	fmt.Println(info.Seq, buf[0])
	// Output: 0 42
}

// StatRing reports a ring's state and, for each registered reader, what
// it says about its progress (RingReaderInfo); an array that is no ring
// is ErrNotRing.
func ExampleStatRing() {
	name := "shm://" + exampleName("ring")
	w, err := sharedarray.CreateRing(name, 4, []int{2}, sharedarray.Uint8)
	if err != nil {
		panic(err)
	}
	defer sharedarray.Delete(name)
	defer w.Close()
	fmt.Println(w.Geometry().FrameShape)

	opts := []sharedarray.Option{sharedarray.WithOldest()}
	r, err := sharedarray.OpenRingReader(name, opts...)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	fmt.Println(r.Geometry().FrameShape)

	for range 3 {
		w.Next()
		w.Publish()
	}
	buf := make([]byte, r.Geometry().FrameBytes)
	r.Next(context.Background(), buf) // frame 0: two frames left to read

	var info sharedarray.RingInfo
	info, err = sharedarray.StatRing(name)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Version, info.Head, info.WriterAlive, info.Readers)
	var me sharedarray.RingReaderInfo = info.ReaderList[0]
	fmt.Println(me.Language, me.Pos, me.Lag)

	plain := "shm://" + exampleName("plain")
	a, _ := sharedarray.Create(plain, []int{3}, sharedarray.Uint8)
	defer sharedarray.Delete(plain)
	defer a.Close()
	_, err = sharedarray.StatRing(plain)
	fmt.Println(errors.Is(err, sharedarray.ErrNotRing))
	// Output:
	// [2]
	// [2]
	// 2 3 true 1
	// go 1 2
	// true
}
