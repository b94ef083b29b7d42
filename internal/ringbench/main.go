// Command ringbench measures frame rings against their baselines in one
// run: wake-up latency writer -> reader (Go -> Go, Go -> Python) beside a
// raw C futex and a Unix pipe between two processes, the cost of a publish
// with no reader waiting beside the same stores in C, and 1 MiB frame
// throughput beside memcpy. Variants alternate within each round; it
// prints medians and ratios. scripts/bench.sh runs it.
//
// Wake-up latency is the reader's CLOCK_MONOTONIC after it woke minus the
// writer's just before it published; one frame every -interval, so the
// reader is asleep each time.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	sa "github.com/sharedarray/sharedarray"
)

var (
	pythonPath = flag.String("python", "", "Python with SharedArray and NumPy (Go -> Python rows are skipped without it)")
	samples    = flag.Int("samples", 1000, "wake-ups per variant and round")
	rounds     = flag.Int("rounds", 3, "rounds; the variants alternate within each")
	interval   = flag.Duration("interval", 300*time.Microsecond, "pause between frames, so the reader is asleep")
	jsonPath   = flag.String("json", "", "also write the wake-up latencies (ns, per variant) to this file (internal/benchchart draws them)")
)

var errPipe = errors.New("pipe write failed")

const roleEnv = "RINGBENCH_ROLE"

func main() {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(child(strings.Fields(role)))
	}
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ringbench:", err)
		os.Exit(1)
	}
}

func name(s string) string { return fmt.Sprintf("sharedarray-bench-ring-%d-%s", os.Getpid(), s) }

// peer is a reader process: it prints "ready", then its latencies as JSON.
type peer struct {
	cmd *exec.Cmd
	out *bufio.Scanner
}

func startPeer(cmd *exec.Cmd) (*peer, error) {
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &peer{cmd: cmd, out: bufio.NewScanner(out)}
	p.out.Buffer(make([]byte, 1<<20), 64<<20)
	if !p.out.Scan() || p.out.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s did not start", cmd.Args)
	}
	return p, nil
}

func (p *peer) result() ([]int64, error) {
	defer p.cmd.Wait()
	if !p.out.Scan() {
		return nil, fmt.Errorf("%s: no result", p.cmd.Args)
	}
	var lat []int64
	err := json.Unmarshal(p.out.Bytes(), &lat)
	return lat, err
}

func self(role string) *exec.Cmd {
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	return cmd
}

// pace sleeps between frames.
func pace() { time.Sleep(*interval) }

type latencies map[string][]int64

func (l latencies) add(label string, lat []int64, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", label, err)
	}
	if len(lat) < *samples*9/10 {
		return fmt.Errorf("%s: only %d of %d wake-ups arrived", label, len(lat), *samples)
	}
	l[label] = append(l[label], lat...)
	return nil
}

func goToGo() ([]int64, error) {
	n := name("gogo")
	w, err := sa.CreateRing(n, 8, []int{8}, sa.Uint64)
	if err != nil {
		return nil, err
	}
	defer sa.Delete(n)
	defer w.Close()
	p, err := startPeer(self("go-reader " + n + " " + strconv.Itoa(*samples)))
	if err != nil {
		return nil, err
	}
	for range *samples {
		pace()
		if _, err := w.Next(); err != nil {
			return nil, err
		}
		w.Publish()
	}
	return p.result()
}

func goToPython() ([]int64, error) {
	n := name("gopy")
	w, err := sa.CreateRing(n, 8, []int{8}, sa.Uint64)
	if err != nil {
		return nil, err
	}
	defer sa.Delete(n)
	defer w.Close()
	_, src, _, _ := runtime.Caller(0)
	dir := filepath.Dir(src)
	cmd := exec.Command(*pythonPath, filepath.Join(dir, "pyreader.py"), n, strconv.Itoa(*samples))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(dir, "..", "..", "python"))
	p, err := startPeer(cmd)
	if err != nil {
		return nil, err
	}
	for range *samples {
		pace()
		w.Next()
		w.Publish()
	}
	return p.result()
}

func cFutex() ([]int64, error) {
	n := name("futex")
	a, err := sa.Create(n, []int{64}, sa.Uint8)
	if err != nil {
		return nil, err
	}
	defer sa.Delete(n)
	defer a.Close()
	p, err := startPeer(self("c-futex " + n + " " + strconv.Itoa(*samples)))
	if err != nil {
		return nil, err
	}
	ptr := unsafe.Pointer(&a.Bytes()[0])
	for range *samples {
		pace()
		cFutexSend(ptr)
	}
	return p.result()
}

func cPipe() ([]int64, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer w.Close()
	cmd := self("c-pipe " + strconv.Itoa(*samples))
	cmd.ExtraFiles = []*os.File{r}
	p, err := startPeer(cmd)
	r.Close()
	if err != nil {
		return nil, err
	}
	for range *samples {
		pace()
		if err := cPipeSend(int(w.Fd())); err != nil {
			return nil, err
		}
	}
	return p.result()
}

// child runs a reader role and prints its latencies.
func child(f []string) int {
	var lat []int64
	switch f[0] {
	case "go-reader":
		n, _ := strconv.Atoi(f[2])
		r, err := sa.OpenRingReader(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		buf := make([]byte, r.FrameBytes())
		fmt.Println("ready")
		for range n {
			info, err := r.NextTimeout(2*time.Second, buf)
			if err != nil {
				break
			}
			lat = append(lat, sa.MonotonicNanos()-info.Time)
		}
	case "c-futex":
		n, _ := strconv.Atoi(f[2])
		a, err := sa.Attach(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		lat = make([]int64, n)
		fmt.Println("ready")
		lat = lat[:cFutexWait(unsafe.Pointer(&a.Bytes()[0]), lat)]
	case "c-pipe":
		n, _ := strconv.Atoi(f[1])
		lat = make([]int64, n)
		fmt.Println("ready")
		lat = lat[:cPipeRead(3, lat)]
	default:
		return 2
	}
	b, _ := json.Marshal(lat)
	fmt.Println(string(b))
	return 0
}

func pct(v []int64, p float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)]) / 1e3
}

func run() error {
	fmt.Printf("frame rings: %s/%s, %d CPUs, %d wake-ups x %d rounds per variant, %v apart\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *samples, *rounds, *interval)
	type v struct {
		label string
		run   func() ([]int64, error)
	}
	vs := []v{{"C futex", cFutex}, {"Go->Go ring", goToGo}, {"pipe (C)", cPipe}}
	if *pythonPath != "" {
		vs = append(vs, v{"Go->Python ring", goToPython})
	}
	lat := latencies{}
	for r := range *rounds {
		for k := range vs { // a different variant first in each round
			x := vs[(k+r)%len(vs)]
			l, err := x.run()
			if err := lat.add(x.label, l, err); err != nil {
				return err
			}
		}
	}
	fmt.Println("\nwake-up latency, writer -> reader in another process (µs)")
	fmt.Printf("  %-18s %9s %9s %12s %12s\n", "", "p50", "p99", "p50/C futex", "p99/C futex")
	base := lat["C futex"]
	for _, x := range vs {
		l := lat[x.label]
		fmt.Printf("  %-18s %9.1f %9.1f %11.2fx %11.2fx\n", x.label, pct(l, .5), pct(l, .99), pct(l, .5)/pct(base, .5), pct(l, .99)/pct(base, .99))
	}
	if *jsonPath != "" {
		var out struct {
			Order     []string
			Latencies latencies // nanoseconds
		}
		for _, x := range vs {
			out.Order = append(out.Order, x.label)
		}
		out.Latencies = lat
		b, _ := json.Marshal(out)
		if err := os.WriteFile(*jsonPath, b, 0o644); err != nil {
			return err
		}
	}
	if err := publishCost(); err != nil {
		return err
	}
	return throughput()
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// publishCost: Next+Publish of a 64-byte frame with no reader waiting, and
// the same stores in C on a plain array.
func publishCost() error {
	n := name("publish")
	w, err := sa.CreateRing(n, 8, []int{8}, sa.Uint64)
	if err != nil {
		return err
	}
	defer sa.Delete(n)
	defer w.Close()
	cn := name("publish-c")
	a, err := sa.Create(cn, []int{4096}, sa.Uint8)
	if err != nil {
		return err
	}
	defer sa.Delete(cn)
	defer a.Close()
	const iters = 1_000_000
	fmt.Println("\npublish, no reader waiting (Next + Publish, 64-byte frame; goal < 100 ns)")
	fmt.Printf("  %-26s %9s %16s %9s\n", "", "Go ring", "same stores in C", "Go/C")
	for _, stamp := range []bool{true, false} {
		w.SetPublishTime(stamp)
		var goT, cT []time.Duration
		for range 9 {
			t0 := time.Now()
			for range iters {
				w.Next()
				w.Publish()
			}
			goT = append(goT, time.Since(t0)/iters)
			t0 = time.Now()
			cPublishLoop(unsafe.Pointer(&a.Bytes()[0]), 8, iters, stamp)
			cT = append(cT, time.Since(t0)/iters)
		}
		g, c := median(goT), median(cT)
		label := "with publish time"
		if !stamp {
			label = "SetPublishTime(false)"
		}
		fmt.Printf("  %-26s %6.1f ns %13.1f ns %8.2fx\n", label, float64(g.Nanoseconds()), float64(c.Nanoseconds()), float64(g)/float64(c))
	}
	return nil
}

// throughput: 1 MiB frames written into an 8-slot ring and read back out
// by a reader, against two memcpys (in, out) of the same buffers.
func throughput() error {
	const size = 1 << 20
	n := name("mib")
	w, err := sa.CreateRing(n, 8, []int{size}, sa.Uint8, sa.Prefault())
	if err != nil {
		return err
	}
	defer sa.Delete(n)
	defer w.Close()
	r, err := sa.OpenRingReader(n)
	if err != nil {
		return err
	}
	defer r.Close()
	a, err := sa.Attach("shm://" + n)
	if err != nil {
		return err
	}
	defer a.Close()
	slots := a.Bytes()
	src := make([]byte, size)
	dst := make([]byte, size)
	for i := range src {
		src[i] = byte(i * 7)
	}
	const iters = 100
	var ringT, memT []time.Duration
	ring := func() error {
		t0 := time.Now()
		for range iters {
			if err := w.Write(src); err != nil {
				return err
			}
			if _, err := r.NextTimeout(time.Second, dst); err != nil {
				return err
			}
		}
		ringT = append(ringT, time.Since(t0)/iters)
		return nil
	}
	mem := func() error {
		t0 := time.Now()
		for k := range iters {
			slot := slots[(k%8)*size : (k%8+1)*size]
			copy(slot, src)
			copy(dst, slot)
		}
		memT = append(memT, time.Since(t0)/iters)
		return nil
	}
	for rep := range 15 { // alternate which goes first
		first, second := ring, mem
		if rep%2 == 1 {
			first, second = mem, ring
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
	}
	rt, mt := median(ringT), median(memT)
	gib := func(d time.Duration) float64 { return size / d.Seconds() / (1 << 30) }
	fmt.Println("\n1 MiB frames: write into the ring + read out (copy), 8 slots (goal >= 0.8x memcpy)")
	fmt.Printf("  ring Write + Next    %7.1f µs  %5.2f GiB/s per copy pair\n", float64(rt.Nanoseconds())/1e3, gib(rt))
	fmt.Printf("  2 x memcpy           %7.1f µs  %5.2f GiB/s\n", float64(mt.Nanoseconds())/1e3, gib(mt))
	fmt.Printf("  throughput ratio     %7.2fx memcpy\n", float64(mt)/float64(rt))
	return nil
}
