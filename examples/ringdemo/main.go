// Command ringdemo streams frames from Go to Python through a frame ring:
// a Go writer publishes 120x160 float32 frames at a fixed rate, a Python
// reader (sharedarray_ring over the real SharedArray) computes the centroid
// of a moving blob on each, then reports frames received, overruns and
// wake-up latency. Run it with make demo.
package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/sharedarray/sharedarray"
)

const (
	height, width = 120, 160
	slots         = 8
	rate          = 250 // frames per second
	steady        = 500 // frames at that rate
	burst         = 200 // then as fast as possible
)

func main() {
	if err := demo(); err != nil {
		fmt.Fprintln(os.Stderr, "ringdemo failed:", err)
		os.Exit(1)
	}
}

func python() string {
	if p := os.Getenv("DEMO_PYTHON"); p != "" {
		return p
	}
	dir := os.Getenv("SHAREDARRAY_VENVS")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".cache", "sharedarray", "venvs")
	}
	return filepath.Join(dir, "sa324-np2", "bin", "python")
}

// draw fills frame with a Gaussian blob circling the centre.
func draw(frame []float32, seq uint64) {
	a := float64(seq) * 2 * math.Pi / 250
	cy, cx := height/2+30*math.Sin(a), width/2+50*math.Cos(a)
	for y := range height {
		for x := range width {
			dy, dx := float64(y)-cy, float64(x)-cx
			frame[y*width+x] = float32(math.Exp(-(dy*dy + dx*dx) / 50))
		}
	}
}

func demo() error {
	name := fmt.Sprintf("shm://sharedarray-demo-%d-cam0", os.Getpid())
	fmt.Printf("\n[ring 1] Go: create frame ring %s: %d slots of (%d, %d) float32\n", name, slots, height, width)
	w, err := sharedarray.CreateRing(name, slots, []int{height, width}, sharedarray.Float32)
	if err != nil {
		return err
	}
	defer sharedarray.Delete(name)
	defer w.Close()
	a, err := sharedarray.Attach(name)
	if err != nil {
		return err
	}
	fmt.Printf("    to SharedArray it is an ordinary array: shape %v, dtype %s, layout %s\n", a.Shape(), a.Dtype(), a.Layout())
	a.Close()

	fmt.Println("\n[ring 2] Python: open a reader; it waits on the ring's futex word")
	_, self, _, _ := runtime.Caller(0)
	dir := filepath.Dir(self)
	cmd := exec.Command(python(), filepath.Join(dir, "reader.py"), name, fmt.Sprint(steady+burst-1), fmt.Sprint(steady))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "..", "..", "python"))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "ready" {
		fmt.Println(lines.Text())
	}
	done := make(chan struct{})
	go func() {
		for lines.Scan() {
			fmt.Println(lines.Text())
		}
		close(done)
	}()

	fmt.Printf("\n[ring 3] Go: publish %d frames at %d Hz, drawn in place in each slot\n", steady, rate)
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	for range steady {
		<-tick.C
		slot, err := w.Next()
		if err != nil {
			return err
		}
		frame, err := sharedarray.FrameAs[float32](w.Geometry().Dtype, slot)
		if err != nil {
			return err
		}
		draw(frame, w.Seq())
		if err := w.Publish(); err != nil {
			return err
		}
	}
	info, err := sharedarray.StatRing(name)
	if err != nil {
		return err
	}
	fmt.Printf("    ring: head %d, generation %d, writer pid %d alive %v, %d reader(s)\n",
		info.Head, info.Generation, info.WriterPID, info.WriterAlive, info.Readers)

	fmt.Printf("\n[ring 4] Go: a burst of %d frames with no pause: the writer never waits, the reader is lapped and told so\n", burst)
	for range burst {
		slot, _ := w.Next()
		frame, _ := sharedarray.FrameAs[float32](w.Geometry().Dtype, slot)
		draw(frame, w.Seq())
		w.Publish()
	}
	<-done
	if err := cmd.Wait(); err != nil {
		return err
	}
	fmt.Println("\n[ring 5] Go: delete the ring (SharedArray.delete would do the same)")
	return sharedarray.Delete(name)
}
