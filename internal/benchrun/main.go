// Command benchrun measures sharedarray against its baselines in one run:
// the same system calls in C (through cgo, in this binary), Python
// SharedArray and NumPy (a helper process, timed inside Python), and cp.
// Variants of a row alternate within each repetition; it prints medians,
// the spread, and each ratio against its target. scripts/bench.sh runs it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	sa "github.com/sharedarray/sharedarray"
	"github.com/sharedarray/sharedarray/internal/cbench"
)

var (
	pythonPath = flag.String("python", "", "Python with SharedArray 3.2.4 and NumPy (required)")
	reps       = flag.Int("reps", 7, "repetitions of each row (three times as many for the small Create and Attach rows)")
	only       = flag.String("only", "", "run only rows whose name contains this")
	dir        = flag.String("dir", "", "directory for .npy files (default: a temporary directory on disk)")
	bigGiB     = flag.Int("gib", 1, "size of the large arrays in GiB")
	jsonPath   = flag.String("json", "", "also write every row's times and ratios to this file (internal/benchchart draws them)")
)

// variant is one way of doing a row's operation; run returns the time of
// one operation.
type variant struct {
	label string
	run   func() (time.Duration, error)
	times []time.Duration
}

// ratio compares two variants: time (smaller is better) or throughput.
type ratio struct {
	num, den   string
	throughput bool    // compare den/num (throughput of num over den)
	target     float64 // ratio must be <= target (time) or >= target (throughput)
	strict     bool    // < or > instead of <= or >=
}

type row struct {
	name     string
	repsMul  int // small rows repeat this many times more: their samples are short and noisy
	variants []*variant
	ratios   []ratio
	notes    func() []string // read after the measurement
}

func main() {
	flag.Parse()
	if *pythonPath == "" {
		fmt.Fprintln(os.Stderr, "benchrun: -python is required")
		os.Exit(2)
	}
	py, err := startPython(*pythonPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		os.Exit(1)
	}
	defer py.stop()
	workDir := *dir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "sharedarray-bench"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer os.RemoveAll(workDir)
	}
	b := &bench{py: py, dir: workDir, big: int64(*bigGiB) << 30}
	defer b.cleanup()
	machine()
	big := sizeLabel(b.big)
	rows := []struct {
		name string
		mk   func() (*row, error)
	}{
		{"Create + Close + Delete, 80 B, sparse", func() (*row, error) { return b.createRow(80, false) }},
		{"Create + Close + Delete, 80 B, reserved", func() (*row, error) { return b.createRow(80, true) }},
		{"Create + Close + Delete, 1 MiB, sparse", func() (*row, error) { return b.createRow(1<<20, false) }},
		{"Create + Close + Delete, 1 MiB, reserved", func() (*row, error) { return b.createRow(1<<20, true) }},
		{"Attach + Close, 80 B", func() (*row, error) { return b.attachRow(80) }},
		{"Attach + Close, 1 MiB", func() (*row, error) { return b.attachRow(1 << 20) }},
		{"Create " + big + " float64, fill through a View, Close", b.fillRow},
		{"Attach a filled " + big + " array, copy it out, Close", b.copyOutRow},
		{"Export " + big + " to .npy on disk, buffered", func() (*row, error) { return b.exportRow(false) }},
		{"Export " + big + " to .npy on disk, fsync", func() (*row, error) { return b.exportRow(true) }},
		{"Import a " + big + " .npy into a new shared array", b.importRow},
		{"List 10000 segments", b.listRow},
	}
	results := &jsonRun{Machine: machineLine(), Date: time.Now().UTC().Format(time.RFC3339)}
	fmt.Println("| operation | variant | median | min – max | ratio | target | met |")
	fmt.Println("|---|---|---|---|---|---|---|")
	missed := 0
	for _, spec := range rows {
		if *only != "" && !strings.Contains(spec.name, *only) {
			continue
		}
		r, err := spec.mk()
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchrun:", err)
			os.Exit(1)
		}
		r.name = spec.name
		if err := measure(r); err != nil {
			fmt.Fprintf(os.Stderr, "benchrun: %s: %v\n", r.name, err)
			os.Exit(1)
		}
		missed += report(r)
		results.Rows = append(results.Rows, rowJSON(r))
		b.afterRow()
	}
	fmt.Printf("\n%d target(s) missed\n", missed)
	if *jsonPath != "" {
		out, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonPath, append(out, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchrun:", err)
			os.Exit(1)
		}
	}
}

// jsonRun is what -json writes: the run's machine and date, and per row
// each variant's times and each ratio with its spread.
type jsonRun struct {
	Machine string
	Date    string
	Rows    []jsonRow
}

type jsonRow struct {
	Name     string
	Variants []jsonVariant
	Ratios   []jsonRatio
}

type jsonVariant struct {
	Label   string
	Seconds []float64
}

// jsonRatio is num/den (or den/num for throughput) of the medians, and
// the quartiles and extremes of the per-repetition ratios: the variants of
// one repetition ran one after the other, so their ratio is the least
// disturbed by the machine's drift.
type jsonRatio struct {
	Num, Den           string
	Throughput, Strict bool
	Target             float64
	Median             float64
	Q1, Q3, Min, Max   float64
	Met                bool
}

func rowJSON(r *row) jsonRow {
	out := jsonRow{Name: r.name}
	byLabel := map[string]*variant{}
	for _, v := range r.variants {
		byLabel[v.label] = v
		secs := make([]float64, len(v.times))
		for i, t := range v.times {
			secs[i] = t.Seconds()
		}
		out.Variants = append(out.Variants, jsonVariant{v.label, secs})
	}
	for _, q := range r.ratios {
		a, b := byLabel[q.num], byLabel[q.den]
		if a == nil || b == nil || len(a.times) == 0 {
			continue
		}
		x := median(a.times).Seconds() / median(b.times).Seconds()
		var per []float64
		for i := range min(len(a.times), len(b.times)) {
			per = append(per, a.times[i].Seconds()/b.times[i].Seconds())
		}
		if q.throughput {
			x = 1 / x
			for i := range per {
				per[i] = 1 / per[i]
			}
		}
		slices.Sort(per)
		met := x <= q.target
		switch {
		case q.throughput && q.strict:
			met = x > q.target
		case q.throughput:
			met = x >= q.target
		case q.strict:
			met = x < q.target
		}
		n := len(per)
		out.Ratios = append(out.Ratios, jsonRatio{Num: q.num, Den: q.den, Throughput: q.throughput, Strict: q.strict, Target: q.target,
			Median: x, Q1: per[n/4], Q3: per[(3*n)/4], Min: per[0], Max: per[n-1], Met: met})
	}
	return out
}

func machine() { fmt.Printf("machine: %s\n\n", machineLine()) }

func machineLine() string {
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	thpb, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/shmem_enabled")
	thp := string(thpb)
	if _, rest, ok := strings.Cut(thp, "["); ok {
		thp, _, _ = strings.Cut(rest, "]")
	}
	return fmt.Sprintf("%s, %d CPUs, kernel %s, shmem THP %s, %s, %d repetitions (x3 for the small rows)",
		cpu, runtime.NumCPU(), strings.TrimSpace(string(kernel)), strings.TrimSpace(thp), runtime.Version(), *reps)
}

// measure runs every variant reps times, rotating the order each time.
func measure(r *row) error {
	n := len(r.variants)
	total := *reps * max(r.repsMul, 1)
	for rep := 0; rep < total; rep++ {
		for k := range n {
			v := r.variants[(rep+k)%n]
			d, err := v.run()
			if err != nil {
				return fmt.Errorf("%s: %w", v.label, err)
			}
			v.times = append(v.times, d)
		}
	}
	return nil
}

func median(ts []time.Duration) time.Duration {
	s := slices.Clone(ts)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3f s", d.Seconds())
}

// report prints the row and returns how many targets it missed.
func report(r *row) int {
	if len(r.variants[0].times) == 0 {
		return 0
	}
	byLabel := map[string]*variant{}
	for _, v := range r.variants {
		byLabel[v.label] = v
	}
	missed := 0
	for i, v := range r.variants {
		name := ""
		if i == 0 {
			name = r.name
		}
		s := slices.Clone(v.times)
		slices.Sort(s)
		var ratios, targets, met []string
		for _, q := range r.ratios {
			if q.num != v.label {
				continue
			}
			a, b := median(v.times).Seconds(), median(byLabel[q.den].times).Seconds()
			x := a / b
			op, ok := "≤", x <= q.target
			if q.strict {
				op, ok = "<", x < q.target
			}
			if q.throughput {
				x = b / a
				op, ok = "≥", x >= q.target
				if q.strict {
					op, ok = ">", x > q.target
				}
			}
			ratios = append(ratios, fmt.Sprintf("%.2f× %s", x, q.den))
			targets = append(targets, fmt.Sprintf("%s %.2f", op, q.target))
			if ok {
				met = append(met, "yes")
			} else {
				met = append(met, "**no**")
				missed++
			}
		}
		fmt.Printf("| %s | %s | %s | %s – %s | %s | %s | %s |\n", name, v.label, fmtDur(median(v.times)), fmtDur(s[0]), fmtDur(s[len(s)-1]),
			strings.Join(ratios, "<br>"), strings.Join(targets, "<br>"), strings.Join(met, "<br>"))
	}
	if r.notes != nil {
		for _, n := range r.notes() {
			fmt.Printf("| | *%s* | | | | | |\n", n)
		}
	}
	return missed
}

// python is the scripts/bench_py.py helper.
type python struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startPython(path string) (*python, error) {
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "scripts", "bench_py.py")
	cmd := exec.Command(path, script)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &python{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

func (p *python) call(req map[string]any) (time.Duration, error) {
	b, _ := json.Marshal(req)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return 0, err
	}
	if !p.out.Scan() {
		return 0, fmt.Errorf("python helper died")
	}
	var res struct {
		Seconds float64
		Error   string
	}
	if err := json.Unmarshal(p.out.Bytes(), &res); err != nil {
		return 0, err
	}
	if res.Error != "" {
		return 0, fmt.Errorf("python: %s", res.Error)
	}
	return time.Duration(res.Seconds * 1e9), nil
}

func (p *python) stop() {
	p.in.Close()
	p.cmd.Wait()
}

type bench struct {
	py    *python
	dir   string
	big   int64
	names []string // shm names to remove at the end
}

var seq int

func (b *bench) name(tag string) string {
	seq++
	n := fmt.Sprintf("sharedarray-bench-%d-%s-%d", os.Getpid(), tag, seq)
	b.names = append(b.names, n)
	return n
}

func (b *bench) cleanup() {
	for _, n := range b.names {
		os.Remove("/dev/shm/" + n)
	}
}

// afterRow removes the row's segments, so large rows do not add up.
func (b *bench) afterRow() { b.cleanup(); b.names = nil }

// timeN runs f n times and returns the time of one run.
func timeN(n int, f func() error) (time.Duration, error) {
	t0 := time.Now()
	for range n {
		if err := f(); err != nil {
			return 0, err
		}
	}
	return time.Since(t0) / time.Duration(n), nil
}

func sizeLabel(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d B", n)
}

const smallN = 500

func (b *bench) createRow(nbytes int64, reserve bool) (*row, error) {
	elems := int(nbytes / 8)
	mode, opts := "sparse", []sa.Option{sa.Sparse()}
	if reserve {
		mode, opts = "reserved", nil
	}
	goName, cName, safeName, pyName := b.name("c"), b.name("c"), b.name("c"), b.name("c")
	r := &row{name: fmt.Sprintf("Create + Close + Delete, %s, %s", sizeLabel(nbytes), mode), repsMul: 3}
	r.variants = []*variant{
		{label: "go", run: func() (time.Duration, error) {
			return timeN(smallN, func() error {
				a, err := sa.Create(goName, []int{elems}, sa.Float64, opts...)
				if err != nil {
					return err
				}
				a.Close()
				return sa.Delete(goName)
			})
		}},
		{label: "c", run: func() (time.Duration, error) {
			return timeN(smallN, func() error { return cbench.CreateCloseDelete(cName, nbytes+548, reserve) })
		}},
		{label: "c-same-work", run: func() (time.Duration, error) {
			return timeN(smallN, func() error { return cbench.CreateCloseDeleteSafe(safeName, nbytes+548, reserve) })
		}},
		{label: "python", run: func() (time.Duration, error) {
			return b.py.call(map[string]any{"op": "create_delete", "name": pyName, "elems": elems, "n": smallN})
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", target: 1.2}, {num: "go", den: "c-same-work", target: 1.1}}
	if !reserve {
		r.ratios = append(r.ratios, ratio{num: "go", den: "python", target: 1.0, strict: true})
	}
	return r, nil
}

func (b *bench) attachRow(nbytes int64) (*row, error) {
	name := b.name("a")
	a, err := sa.Create(name, []int{int(nbytes / 8)}, sa.Float64)
	if err != nil {
		return nil, err
	}
	a.Close()
	r := &row{name: fmt.Sprintf("Attach + Close, %s", sizeLabel(nbytes)), repsMul: 3}
	r.variants = []*variant{
		{label: "go", run: func() (time.Duration, error) {
			return timeN(smallN, func() error {
				a, err := sa.Attach(name)
				if err != nil {
					return err
				}
				return a.Close()
			})
		}},
		{label: "c", run: func() (time.Duration, error) {
			return timeN(smallN, func() error { return cbench.AttachClose(name) })
		}},
		{label: "python", run: func() (time.Duration, error) {
			return b.py.call(map[string]any{"op": "attach", "name": name, "n": smallN})
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", target: 1.15}, {num: "go", den: "python", target: 1.0, strict: true}}
	return r, nil
}

func (b *bench) fillRow() (*row, error) {
	elems := int(b.big / 8)
	goFill := func(opts ...sa.Option) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			name := b.name("f")
			t0 := time.Now()
			a, err := sa.Create(name, []int{elems}, sa.Float64, opts...)
			if err != nil {
				return 0, err
			}
			v, err := sa.View[float64](a)
			if err != nil {
				return 0, err
			}
			for i := range v {
				v[i] = 1
			}
			a.Close()
			d := time.Since(t0)
			return d, sa.Delete(name)
		}
	}
	r := &row{name: fmt.Sprintf("Create %s float64, fill through a View, Close", sizeLabel(b.big))}
	r.variants = []*variant{
		{label: "go", run: goFill()},
		{label: "go-prefault", run: goFill(sa.Prefault())},
		{label: "go-sparse", run: goFill(sa.Sparse())},
		{label: "c-naive", run: func() (time.Duration, error) {
			name := b.name("f")
			t0 := time.Now()
			err := cbench.CreateFill(name, b.big)
			d := time.Since(t0)
			os.Remove("/dev/shm/" + name)
			return d, err
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c-naive", target: 0.95}, {num: "go-prefault", den: "c-naive", target: 0.95}, {num: "go-sparse", den: "c-naive", target: 0.95}}
	return r, nil
}

// filled creates a big float64 array with every byte written.
func (b *bench) filled(tag string) (string, error) {
	name := b.name(tag)
	a, err := sa.Create(name, []int{int(b.big / 8)}, sa.Float64, sa.Prefault())
	if err != nil {
		return "", err
	}
	v, _ := sa.View[float64](a)
	for i := range v {
		v[i] = float64(i)
	}
	return name, a.Close()
}

func (b *bench) copyOutRow() (*row, error) {
	name, err := b.filled("o")
	if err != nil {
		return nil, err
	}
	dst := make([]byte, b.big)
	for i := range dst { // fault the destination in once, outside the timing
		dst[i] = 1
	}
	goCopy := func(opts ...sa.Option) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			t0 := time.Now()
			a, err := sa.Attach(name, append(opts, sa.ReadOnly())...)
			if err != nil {
				return 0, err
			}
			if _, err := a.ReadAt(dst, 0); err != nil {
				return 0, err
			}
			a.Close()
			return time.Since(t0), nil
		}
	}
	r := &row{name: fmt.Sprintf("Attach a filled %s array, copy it out, Close", sizeLabel(b.big))}
	r.variants = []*variant{
		{label: "go", run: goCopy()},
		{label: "go-prefault", run: goCopy(sa.Prefault())},
		{label: "go-view", run: func() (time.Duration, error) {
			t0 := time.Now()
			a, err := sa.Attach(name, sa.ReadOnly())
			if err != nil {
				return 0, err
			}
			copy(dst, a.Bytes())
			a.Close()
			return time.Since(t0), nil
		}},
		{label: "c", run: func() (time.Duration, error) {
			t0 := time.Now()
			err := cbench.AttachCopy(name, dst)
			return time.Since(t0), err
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", target: 1.0}, {num: "go-prefault", den: "c", target: 1.0}, {num: "go-view", den: "c", target: 1.0}}
	return r, nil
}

// rssAnon returns this process's anonymous resident memory in bytes.
func rssAnon() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return -1
}

func (b *bench) exportRow(sync bool) (*row, error) {
	name, err := b.filled("e")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.dir, "export.npy")
	mode := "buffered"
	if sync {
		mode = "fsync"
	}
	var header []byte
	{
		a, err := sa.Attach(name, sa.ReadOnly())
		if err != nil {
			return nil, err
		}
		hdr := &headerCatcher{} // WriteNPY writes the header in its first Write
		a.WriteNPY(hdr)
		header = hdr.first
		a.Close()
	}
	var maxRSS int64
	timed := func(f func() error) (time.Duration, error) {
		os.Remove(path)
		t0 := time.Now()
		err := f()
		d := time.Since(t0)
		os.Remove(path)
		return d, err
	}
	r := &row{name: fmt.Sprintf("Export %s to .npy on disk, %s", sizeLabel(b.big), mode)}
	goExport := func(opts ...sa.Option) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			runtime.GC()
			before := rssAnon()
			return timed(func() error {
				a, err := sa.Attach(name, append(opts, sa.ReadOnly())...)
				if err != nil {
					return err
				}
				defer a.Close()
				f, err := os.Create(path)
				if err != nil {
					return err
				}
				if _, err := a.WriteNPY(f); err != nil {
					f.Close()
					return err
				}
				if sync {
					if err := f.Sync(); err != nil {
						f.Close()
						return err
					}
				}
				if rss := rssAnon() - before; rss > maxRSS {
					maxRSS = rss
				}
				return f.Close()
			})
		}
	}
	r.variants = []*variant{
		{label: "go", run: goExport()},
		{label: "go-prefault", run: goExport(sa.Prefault())},
		{label: "c", run: func() (time.Duration, error) {
			return timed(func() error { return cbench.ExportWrite(name, path, header, b.big, sync) })
		}},
		{label: "numpy.save", run: func() (time.Duration, error) {
			os.Remove(path)
			d, err := b.py.call(map[string]any{"op": "save", "name": name, "path": path, "fsync": sync})
			os.Remove(path)
			return d, err
		}},
		{label: "cp", run: func() (time.Duration, error) {
			return timed(func() error {
				args := []string{"/dev/shm/" + name, path}
				if err := exec.Command("cp", args...).Run(); err != nil {
					return err
				}
				if sync {
					return exec.Command("sync", path).Run()
				}
				return nil
			})
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", throughput: true, target: 0.9}, {num: "go", den: "numpy.save", throughput: true, target: 1.0},
		{num: "go-prefault", den: "c", throughput: true, target: 0.9}}
	r.notes = func() []string {
		return []string{fmt.Sprintf("go: extra anonymous RSS during the export at most %s", sizeLabel(maxRSS))}
	}
	return r, nil
}

type headerCatcher struct{ first []byte }

func (h *headerCatcher) Write(p []byte) (int, error) {
	if h.first == nil {
		h.first = append([]byte(nil), p...)
	}
	return len(p), nil
}

func (b *bench) importRow() (*row, error) {
	name, err := b.filled("i")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(b.dir, "import.npy")
	a, err := sa.Attach(name)
	if err != nil {
		return nil, err
	}
	err = a.SaveNPY(path)
	a.Close()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, 10)
	io.ReadFull(f, hdr)
	f.Close()
	off := int64(10 + int(hdr[8]) + int(hdr[9])<<8)
	goLoad := func(opts ...sa.Option) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			n := b.name("i")
			t0 := time.Now()
			a, err := sa.LoadNPY(n, path, opts...)
			if err != nil {
				return 0, err
			}
			a.Close()
			d := time.Since(t0)
			return d, sa.Delete(n)
		}
	}
	// The same bytes as a Fortran-order 2-D array: LoadNPY transposes it.
	fpath := filepath.Join(b.dir, "import-fortran.npy")
	if err := writeFortranCopy(path, off, fpath, b.big); err != nil {
		return nil, err
	}
	var fortranAlloc uint64
	goFortran := func() (time.Duration, error) {
		n := b.name("i")
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		t0 := time.Now()
		a, err := sa.LoadNPY(n, fpath)
		if err != nil {
			return 0, err
		}
		d := time.Since(t0)
		runtime.ReadMemStats(&ms1)
		fortranAlloc = max(fortranAlloc, ms1.TotalAlloc-ms0.TotalAlloc)
		a.Close()
		return d, sa.Delete(n)
	}
	r := &row{name: fmt.Sprintf("Import a %s .npy into a new shared array", sizeLabel(b.big))}
	r.notes = func() []string {
		return []string{fmt.Sprintf("go-fortran: the same data as a Fortran-order (%d, 1024) array; Go heap allocated per import at most %s", b.big/8/1024, sizeLabel(int64(fortranAlloc)))}
	}
	r.variants = []*variant{
		{label: "go", run: goLoad()},
		{label: "go-fortran", run: goFortran},
		{label: "go-sparse", run: goLoad(sa.Sparse())},
		{label: "c", run: func() (time.Duration, error) {
			n := b.name("i")
			t0 := time.Now()
			err := cbench.ImportRead(path, off, n, b.big)
			d := time.Since(t0)
			os.Remove("/dev/shm/" + n)
			return d, err
		}},
		{label: "numpy.load", run: func() (time.Duration, error) {
			n := b.name("i")
			d, err := b.py.call(map[string]any{"op": "load", "path": path, "name": n})
			os.Remove("/dev/shm/" + n)
			return d, err
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", target: 1.0}, {num: "go", den: "numpy.load", target: 1.0, strict: true},
		{num: "go-fortran", den: "go", throughput: true, target: 0.6}}
	return r, nil
}

// writeFortranCopy writes to dst a .npy whose header says the n data bytes
// of src (from off) are a Fortran-order float64 array of 1024 columns.
func writeFortranCopy(src string, off int64, dst string, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	dict := fmt.Sprintf("{'descr': '<f8', 'fortran_order': True, 'shape': (%d, 1024), }", n/8/1024)
	pad := 64 - (10+len(dict)+1)%64
	hdr := append([]byte("\x93NUMPY\x01\x00"), byte(len(dict)+pad+1), byte((len(dict)+pad+1)>>8))
	hdr = append(append(append(hdr, dict...), strings.Repeat(" ", pad)...), '\n')
	if _, err := out.Write(hdr); err != nil {
		out.Close()
		return err
	}
	if _, err := io.Copy(out, io.NewSectionReader(in, off, n)); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (b *bench) listRow() (*row, error) {
	const count = 10000
	for range count {
		a, err := sa.Create(b.name("l"), []int{4}, sa.Float64, sa.Sparse())
		if err != nil {
			return nil, err
		}
		a.Close()
	}
	const n = 5
	r := &row{name: fmt.Sprintf("List %d segments", count)}
	r.variants = []*variant{
		{label: "go", run: func() (time.Duration, error) {
			return timeN(n, func() error {
				infos, err := sa.List()
				if err == nil && len(infos) < count {
					err = fmt.Errorf("listed %d", len(infos))
				}
				return err
			})
		}},
		{label: "c", run: func() (time.Duration, error) {
			return timeN(n, func() error {
				got, err := cbench.ListCount()
				if err == nil && got < count {
					err = fmt.Errorf("counted %d", got)
				}
				return err
			})
		}},
		{label: "python", run: func() (time.Duration, error) {
			return b.py.call(map[string]any{"op": "list", "n": n, "min": count})
		}},
	}
	r.ratios = []ratio{{num: "go", den: "c", target: 1.0}, {num: "go", den: "python", target: 0.9}}
	return r, nil
}
