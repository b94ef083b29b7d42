// Command ringbench measures frame rings against their baselines in one
// run: wake-up latency writer -> reader in another process (Go -> Go,
// Go -> Python, Python -> Go, Python -> Python) with the reader sleeping,
// spinning or predicting, at a periodic 1 kHz and at irregular gaps,
// beside two C futex baselines (the same-CPU hand-off and a pair pinned to
// two CPUs) and, when it installs, Eclipse iceoryx2's Python bindings in
// their blocking and busy-polling modes; the reader's CPU share
// (getrusage); the cost of a publish with no reader waiting (Go, Python
// with and without its C extension, iceoryx2 send + notify) beside the
// same stores in C; and 1 MiB frame throughput beside memcpy. Variants
// alternate within each round; it prints medians and ratios.
// scripts/bench.sh runs it.
//
// Wake-up latency is the reader's CLOCK_MONOTONIC after it has the frame
// minus the writer's just before it published.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	sa "github.com/sharedarray/sharedarray"
	"golang.org/x/sys/unix"
)

var (
	pythonPath = flag.String("python", "", "Python with SharedArray and NumPy (Python rows are skipped without it)")
	iox2Python = flag.String("iceoryx2-python", "", "Python with iceoryx2 (PyPI iceoryx2) and NumPy; iceoryx2 rows are skipped without it")
	iox2Skip   = flag.String("iceoryx2-skip", "", "why iceoryx2 rows are skipped (printed)")
	samples    = flag.Int("samples", 1000, "wake-ups per variant and round")
	rounds     = flag.Int("rounds", 3, "rounds; the variants alternate within each")
	only       = flag.String("only", "", "run only the latency variants whose label (+ \" \" + pattern) contains one of these ;-separated strings")
	skipOther  = flag.Bool("latency-only", false, "skip the publish-cost and throughput sections")
	jsonPath   = flag.String("json", "", "also write the periodic wake-up latencies (ns, per variant) to this file (internal/benchchart draws them)")
)

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

// result is what a reader process prints: its latencies and CPU use.
type result struct {
	Lat  []int64 `json:"lat"`
	CPU  float64 `json:"cpu"`  // user + system seconds over the reading loop
	Wall float64 `json:"wall"` // seconds of that loop
	Lost int     `json:"lost"` // frames the reader lost (lapped); C: wake-ups that covered several
}

// peer is a reader process: it prints "ready", then its result as JSON.
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

func (p *peer) result() (result, error) {
	defer p.cmd.Wait()
	var r result
	if !p.out.Scan() {
		return r, fmt.Errorf("%s: no result", p.cmd.Args)
	}
	err := json.Unmarshal(p.out.Bytes(), &r)
	return r, err
}

func self(role ...string) *exec.Cmd {
	exe, _ := os.Executable()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), roleEnv+"="+strings.Join(role, " "))
	return cmd
}

// benchDir is this source directory (the Python scripts live here).
func benchDir() string {
	_, src, _, _ := runtime.Caller(0)
	return filepath.Dir(src)
}

// pyDir holds sharedarray_ring with its C extension built for -python
// (empty: not built, the pure-Python paths run).
var pyDir string

// buildPython copies python/sharedarray_ring to a temporary directory and
// compiles _fast.c there for *pythonPath, as pip would at install.
func buildPython() (string, error) {
	src := filepath.Join(benchDir(), "..", "..", "python", "sharedarray_ring")
	dir, err := os.MkdirTemp("", "ringbench-py-")
	if err != nil {
		return "", err
	}
	pkg := filepath.Join(dir, "sharedarray_ring")
	if err := os.Mkdir(pkg, 0o755); err != nil {
		return dir, err
	}
	files, _ := filepath.Glob(filepath.Join(src, "*.py"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return dir, err
		}
		if err := os.WriteFile(filepath.Join(pkg, filepath.Base(f)), b, 0o644); err != nil {
			return dir, err
		}
	}
	out, err := exec.Command(*pythonPath, "-c", "import sysconfig; print(sysconfig.get_paths()['include']); print(sysconfig.get_config_var('EXT_SUFFIX'))").Output()
	if err != nil {
		return dir, err
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		return dir, fmt.Errorf("python's sysconfig said %q", out)
	}
	cc := exec.Command("cc", "-O2", "-Wall", "-shared", "-fPIC", "-I"+f[0], "-o", filepath.Join(pkg, "_fast"+f[1]), filepath.Join(src, "_fast.c"))
	cc.Stderr = os.Stderr
	return dir, cc.Run()
}

// Wait modes of the ring readers.
var modes = []string{"sleep", "spin", "predict"}

// gap returns the pause before frame k: 1 ms (periodic, 1 kHz) or
// 200..1800 µs spread evenly (irregular, mean 1 ms); pywriter.py and
// iox2bench.py use the same formula.
func gap(pattern string, k int) time.Duration {
	if pattern == "periodic" {
		return time.Millisecond
	}
	return time.Duration(200+(k*7919)%1601) * time.Microsecond
}

// pacer publishes at absolute times: it sleeps until 200 µs before each
// and spins the rest. When the sleep ends later than that (a loaded
// machine), the frame is late: the jitter a periodic source's process
// has. The writer spins at most a fifth of the time, so it does not take
// the CPU a spinning reader needs on a two-CPU machine.
type pacer struct {
	pattern string
	next    time.Time
	k       int
}

func newPacer(pattern string) *pacer { return &pacer{pattern: pattern, next: time.Now()} }

func (p *pacer) wait() {
	p.next = p.next.Add(gap(p.pattern, p.k))
	p.k++
	if d := time.Until(p.next) - 200*time.Microsecond; d > 0 {
		time.Sleep(d)
	}
	for time.Now().Before(p.next) {
	}
}

// variant is one latency row: a reader process, then a writer process
// that publishes -samples frames.
type variant struct {
	label   string
	pattern string
	setup   func() (cleanup func(), err error)
	reader  func() *exec.Cmd
	writer  func() *exec.Cmd
}

func (v variant) run() (result, error) {
	if v.setup != nil {
		cleanup, err := v.setup()
		if err != nil {
			return result{}, err
		}
		defer cleanup()
	}
	p, err := startPeer(v.reader())
	if err != nil {
		return result{}, err
	}
	w := v.writer()
	w.Stdout, w.Stderr = os.Stderr, os.Stderr
	if err := w.Run(); err != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		return result{}, fmt.Errorf("writer %s: %w", w.Args, err)
	}
	return p.result()
}

func pyCmd(python string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(python, args...)
	cmd.Env = append(append(os.Environ(), env...), "PYTHONPATH="+pyDir)
	return cmd
}

func variants() []variant {
	var vs []variant
	n := strconv.Itoa(*samples)
	for _, pat := range []string{"periodic", "irregular"} {
		// The C futex pair: the writer pinned to CPU 0, the reader to CPU 1
		// (cross-CPU: what a user sees) or to CPU 0 too (same-CPU hand-off).
		for _, c := range []struct{ label, rcpu string }{{"C futex, two CPUs", "1"}, {"C futex, same CPU", "0"}} {
			seg := name("futex-" + pat + c.rcpu)
			vs = append(vs, variant{
				label: c.label, pattern: pat,
				setup: func() (func(), error) {
					a, err := sa.Create(seg, []int{64}, sa.Uint8)
					if err != nil {
						return nil, err
					}
					a.Close()
					return func() { sa.Delete(seg) }, nil
				},
				reader: func() *exec.Cmd { return self("c-futex-wait", seg, n, c.rcpu) },
				writer: func() *exec.Cmd { return self("c-futex-send", seg, n, pat, "0") },
			})
		}
		ringSetup := func(seg string) func() (func(), error) {
			return func() (func(), error) {
				w, err := sa.CreateRing(seg, 8, []int{8}, sa.Uint64)
				if err != nil {
					return nil, err
				}
				w.Close()
				return func() { sa.Delete(seg) }, nil
			}
		}
		py := *pythonPath != ""
		for _, m := range modes {
			seg := name("gogo-" + pat + m)
			vs = append(vs, variant{label: "Go->Go ring, " + m, pattern: pat, setup: ringSetup(seg),
				reader: func() *exec.Cmd { return self("go-reader", seg, n, m) },
				writer: func() *exec.Cmd { return self("go-writer", seg, n, pat) }})
			if !py {
				continue
			}
			seg2 := name("gopy-" + pat + m)
			vs = append(vs, variant{label: "Go->Python ring, " + m, pattern: pat, setup: ringSetup(seg2),
				reader: func() *exec.Cmd {
					return pyCmd(*pythonPath, nil, filepath.Join(benchDir(), "pyreader.py"), seg2, n, m)
				},
				writer: func() *exec.Cmd { return self("go-writer", seg2, n, pat) }})
			seg3 := name("pygo-" + pat + m)
			vs = append(vs, variant{label: "Python->Go ring, " + m, pattern: pat, setup: ringSetup(seg3),
				reader: func() *exec.Cmd { return self("go-reader", seg3, n, m) },
				writer: func() *exec.Cmd {
					return pyCmd(*pythonPath, nil, filepath.Join(benchDir(), "pywriter.py"), seg3, n, pat)
				}})
			seg4 := name("pypy-" + pat + m)
			vs = append(vs, variant{label: "Python->Python ring, " + m, pattern: pat, setup: ringSetup(seg4),
				reader: func() *exec.Cmd {
					return pyCmd(*pythonPath, nil, filepath.Join(benchDir(), "pyreader.py"), seg4, n, m)
				},
				writer: func() *exec.Cmd {
					return pyCmd(*pythonPath, nil, filepath.Join(benchDir(), "pywriter.py"), seg4, n, pat)
				}})
		}
		if py && pat == "periodic" {
			seg := name("gopy-pure")
			pure := []string{"SHAREDARRAY_RING_PURE=1"}
			vs = append(vs, variant{label: "Go->Python ring, sleep, pure Python", pattern: pat, setup: ringSetup(seg),
				reader: func() *exec.Cmd {
					return pyCmd(*pythonPath, pure, filepath.Join(benchDir(), "pyreader.py"), seg, n, "sleep")
				},
				writer: func() *exec.Cmd { return self("go-writer", seg, n, pat) }})
		}
		if pat == "periodic" {
			vs = append(vs, pinnedVariants(ringSetup, n)...)
		}
		if *iox2Python != "" {
			for _, m := range []string{"blocking", "busy"} {
				svc := name("iox2-" + pat + m)
				vs = append(vs, variant{label: "iceoryx2 Python->Python, " + m, pattern: pat,
					reader: func() *exec.Cmd {
						return exec.Command(*iox2Python, filepath.Join(benchDir(), "iox2bench.py"), "sub", svc, n, m)
					},
					writer: func() *exec.Cmd {
						return exec.Command(*iox2Python, filepath.Join(benchDir(), "iox2bench.py"), "pub", svc, n, pat, m)
					}})
			}
		}
	}
	if *only != "" {
		vs = slices.DeleteFunc(vs, func(v variant) bool {
			for _, o := range strings.Split(*only, ";") {
				if o != "" && strings.Contains(v.label+" "+v.pattern, o) {
					return false
				}
			}
			return true
		})
	}
	return vs
}

// cpuPairs are the pinned rows' placements: the writer on CPU 0, the
// reader on CPU 0 too or on CPU 1, as the C futex pair.
var cpuPairs = []struct{ label, wcpu, rcpu string }{
	{"pinned same CPU", "0", "0"},
	{"pinned two CPUs", "0", "1"},
}

// pinnedVariants are the sleeping/blocking rows with writer and reader
// pinned like the C pair, at 1 kHz, so that they compare mode for mode:
// Go->Go and Python->Python through the ring (reader sleeping; Python
// with its C extension when it built) and iceoryx2's blocking listener.
// Python processes call os.sched_setaffinity at start (RINGBENCH_CPU);
// Go ones run under taskset, every thread on the one CPU (onCPU): pinning
// only the reading goroutine's thread (pin, runtime.LockOSThread) made a
// sleeping Go reader use 29-37 % of a core instead of 3 % (run of
// 2026-12-05 21:36 UTC; why was not measured).
func pinnedVariants(ringSetup func(string) func() (func(), error), n string) []variant {
	const pat = "periodic"
	var vs []variant
	pyPin := func(cpu string) []string { return []string{"RINGBENCH_CPU=" + cpu} }
	for _, c := range cpuPairs {
		seg := name("gogo-pin" + c.rcpu)
		vs = append(vs, variant{label: "Go->Go ring, sleep, " + c.label, pattern: pat, setup: ringSetup(seg),
			reader: func() *exec.Cmd { return onCPU(c.rcpu, self("go-reader", seg, n, "sleep")) },
			writer: func() *exec.Cmd { return onCPU(c.wcpu, self("go-writer", seg, n, pat)) }})
		if *pythonPath != "" {
			seg4 := name("pypy-pin" + c.rcpu)
			vs = append(vs, variant{label: "Python->Python ring, sleep, " + c.label, pattern: pat, setup: ringSetup(seg4),
				reader: func() *exec.Cmd {
					return pyCmd(*pythonPath, pyPin(c.rcpu), filepath.Join(benchDir(), "pyreader.py"), seg4, n, "sleep")
				},
				writer: func() *exec.Cmd {
					return pyCmd(*pythonPath, pyPin(c.wcpu), filepath.Join(benchDir(), "pywriter.py"), seg4, n, pat)
				}})
		}
		if *iox2Python != "" {
			svc := name("iox2-pin" + c.rcpu)
			vs = append(vs, variant{label: "iceoryx2 Python->Python, blocking, " + c.label, pattern: pat,
				reader: func() *exec.Cmd {
					return pyCmd(*iox2Python, pyPin(c.rcpu), filepath.Join(benchDir(), "iox2bench.py"), "sub", svc, n, "blocking")
				},
				writer: func() *exec.Cmd {
					return pyCmd(*iox2Python, pyPin(c.wcpu), filepath.Join(benchDir(), "iox2bench.py"), "pub", svc, n, pat, "blocking")
				}})
		}
	}
	return vs
}

// onCPU runs cmd under taskset, every thread of it on one CPU.
func onCPU(cpu string, cmd *exec.Cmd) *exec.Cmd {
	c := exec.Command("taskset", append([]string{"-c", cpu}, cmd.Args...)...)
	c.Env = cmd.Env
	return c
}

// pin binds the calling goroutine's thread to one CPU.
func pin(cpu string) {
	c, err := strconv.Atoi(cpu)
	if err != nil || c >= runtime.NumCPU() {
		return
	}
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(c)
	unix.SchedSetaffinity(0, &set)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// child runs a reader or writer role; readers print their result.
func child(f []string) int {
	n, _ := strconv.Atoi(f[2])
	var res result
	var t0 time.Time
	var c0 float64
	begin := func() {
		fmt.Println("ready")
		t0, c0 = time.Now(), cpuSeconds()
	}
	switch f[0] {
	case "go-reader":
		var opts []sa.Option
		switch f[3] {
		case "spin":
			opts = append(opts, sa.WithSpin(time.Second))
		case "predict":
			opts = append(opts, sa.WithPredict())
		}
		r, err := sa.OpenRingReader(f[1], opts...)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		buf := make([]byte, r.Geometry().FrameBytes)
		begin()
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			info, err := r.Next(ctx, buf)
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, "go-reader:", err)
				break
			}
			res.Lat = append(res.Lat, monoNanos()-info.Time)
			if info.Seq >= uint64(n-1) {
				break
			}
		}
		res.Lost = int(r.Overruns())
	case "go-writer":
		w, err := sa.OpenRingWriter(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		p := newPacer(f[3])
		for range n {
			p.wait()
			w.Next()
			w.Publish()
		}
		w.Close()
		return 0
	case "c-futex-wait":
		a, err := sa.Attach(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pin(f[3])
		res.Lat = make([]int64, n)
		begin()
		res.Lat = res.Lat[:cFutexWait(unsafe.Pointer(&a.Bytes()[0]), res.Lat)]
		res.Lost = n - len(res.Lat)
	case "c-futex-send":
		a, err := sa.Attach(f[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pin(f[4])
		p := newPacer(f[3])
		ptr := unsafe.Pointer(&a.Bytes()[0])
		for range n {
			p.wait()
			cFutexSend(ptr)
		}
		return 0
	default:
		return 2
	}
	res.Wall, res.CPU = time.Since(t0).Seconds(), cpuSeconds()-c0
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	return 0
}

// writeJSON writes the periodic pattern's wake-up latencies in the form
// internal/benchchart reads: Order (the variants in the order run, by
// label) and Latencies (label -> nanoseconds, every round). Variants that
// did not run (-only, no Python, no iceoryx2) are left out.
func writeJSON(path string, vs []variant, key func(variant) string, lat func(string) []int64) error {
	out := struct {
		Pattern   string
		Order     []string
		Latencies map[string][]int64
	}{Pattern: "periodic, one frame every 1 ms", Latencies: map[string][]int64{}}
	for _, v := range vs {
		if v.pattern != "periodic" {
			continue
		}
		if l := lat(key(v)); len(l) > 0 {
			out.Order = append(out.Order, v.label)
			out.Latencies[v.label] = l
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func pct(v []int64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return float64(s[int(float64(len(s)-1)*p)]) / 1e3
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func run() error {
	fmt.Printf("frame rings: %s/%s, %d CPUs, %d wake-ups x %d rounds per variant; load average %s at the start\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), *samples, *rounds, loadavg())
	if *pythonPath != "" {
		dir, err := buildPython()
		pyDir = dir
		defer os.RemoveAll(dir)
		if err != nil {
			fmt.Printf("python: the C extension did not build (%v): Python rows use the pure-Python paths\n", err)
		}
	}
	if *iox2Python == "" {
		reason := *iox2Skip
		if reason == "" {
			reason = "no -iceoryx2-python given"
		}
		fmt.Println("iceoryx2 rows skipped:", reason)
	}
	vs := variants()
	type acc struct {
		lat       []int64
		cpu, wall float64
		lost      int
	}
	res := map[string]*acc{}
	key := func(v variant) string { return v.label + " | " + v.pattern }
	for r := range *rounds {
		for k := range vs { // a different variant first in each round
			x := vs[(k+r)%len(vs)]
			out, err := x.run()
			if err != nil {
				return fmt.Errorf("%s: %w", key(x), err)
			}
			if len(out.Lat) == 0 {
				return fmt.Errorf("%s: no wake-up arrived", key(x))
			}
			a := res[key(x)]
			if a == nil {
				a = &acc{}
				res[key(x)] = a
			}
			a.lat = append(a.lat, out.Lat...)
			a.cpu += out.CPU
			a.wall += out.Wall
			a.lost += out.Lost
		}
	}
	for _, pat := range []string{"periodic", "irregular"} {
		what := "periodic, one frame every 1 ms (1 kHz)"
		if pat == "irregular" {
			what = "irregular gaps, 200-1800 µs (mean 1 ms)"
		}
		b50 := math.NaN()
		if base := res["C futex, two CPUs | "+pat]; base != nil {
			b50 = pct(base.lat, .5)
		}
		fmt.Printf("\nwake-up latency writer -> reader in another process, %s (µs); reader CPU = user+system / wall\n", what)
		fmt.Printf("  %-52s %8s %8s %10s %9s %6s\n", "", "p50", "p99", "p50/C 2CPU", "reader CPU", "lost")
		for _, v := range vs {
			if v.pattern != pat {
				continue
			}
			a := res[key(v)]
			if a == nil {
				continue
			}
			fmt.Printf("  %-52s %8.1f %8.1f %9.2fx %8.0f%% %6d\n", v.label, pct(a.lat, .5), pct(a.lat, .99), pct(a.lat, .5)/b50, 100*a.cpu/a.wall, a.lost)
		}
	}
	fmt.Printf("load average %s at the end\n", loadavg())
	if *jsonPath != "" {
		if err := writeJSON(*jsonPath, vs, key, func(k string) []int64 {
			if a := res[k]; a != nil {
				return a.lat
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if *skipOther {
		return nil
	}
	if err := publishCost(); err != nil {
		return err
	}
	if *pythonPath != "" {
		if err := pythonPublishCost(); err != nil {
			return err
		}
	}
	return throughput()
}

// pythonPublishCost times next() + publish() in Python, with the C
// extension and without, and iceoryx2's send_copy + notify.
func pythonPublishCost() error {
	seg := name("pypub")
	w, err := sa.CreateRing(seg, 8, []int{8}, sa.Uint64)
	if err != nil {
		return err
	}
	w.Close()
	defer sa.Delete(seg)
	fmt.Println("\nPython publish, no reader waiting (w.next() + w.publish(), 64-byte frame; goal <= 2 µs), median of 9 x 100,000")
	rows := []struct {
		label  string
		python string
		env    []string
		args   []string
	}{
		{"sharedarray_ring, C extension", *pythonPath, nil, []string{filepath.Join(benchDir(), "pypublish.py"), seg}},
		{"sharedarray_ring, pure Python", *pythonPath, []string{"SHAREDARRAY_RING_PURE=1"}, []string{filepath.Join(benchDir(), "pypublish.py"), seg}},
	}
	if *iox2Python != "" {
		rows = append(rows, struct {
			label  string
			python string
			env    []string
			args   []string
		}{"iceoryx2 send_copy + notify", *iox2Python, nil, []string{filepath.Join(benchDir(), "iox2bench.py"), "pubcost", name("iox2-pubcost"), "100000"}})
	}
	for _, r := range rows {
		cmd := pyCmd(r.python, r.env, r.args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			fmt.Printf("  %-34s failed: %v\n", r.label, err)
			continue
		}
		fmt.Printf("  %-34s %s", r.label, out)
	}
	return nil
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
	fmt.Println("\nGo publish, no reader waiting (Next + Publish, 64-byte frame; goal < 100 ns)")
	fmt.Printf("  %-26s %9s %16s %9s\n", "", "Go ring", "same stores in C", "Go/C")
	var goT, cT []time.Duration
	for range 9 {
		t0 := time.Now()
		for range iters {
			w.Next()
			w.Publish()
		}
		goT = append(goT, time.Since(t0)/iters)
		t0 = time.Now()
		cPublishLoop(unsafe.Pointer(&a.Bytes()[0]), 8, iters, true)
		cT = append(cT, time.Since(t0)/iters)
	}
	g, c := median(goT), median(cT)
	fmt.Printf("  %-26s %6.1f ns %13.1f ns %8.2fx\n", "with publish time", float64(g.Nanoseconds()), float64(c.Nanoseconds()), float64(g)/float64(c))
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
			if _, err := r.Next(context.Background(), dst); err != nil {
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

// monoNanos reads CLOCK_MONOTONIC, the clock of FrameInfo.Time.
func monoNanos() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
