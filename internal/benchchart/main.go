// Command benchchart draws the charts of docs/performance.md from the JSON
// that internal/benchrun writes (-json): one chart per group of rows, each
// bar a ratio to its baseline (the median of the run), with the quartiles
// of the per-repetition ratios as error bars and the goal as a mark. It is
// its own module, so that the plotting library is not a dependency of
// package sharedarray. scripts/bench.sh runs it.
//
//	go run . -in results.json -out ../../docs
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

type run struct {
	Machine string
	Date    string
	Rows    []struct {
		Name   string
		Ratios []ratio
	}
}

type ratio struct {
	Num, Den           string
	Throughput, Strict bool
	Target             float64
	Median             float64
	Q1, Q3, Min, Max   float64
	Met                bool
}

// groups: which rows go in which chart, by the start of their name.
var groups = []struct{ file, title, prefix string }{
	{"perf-create.svg", "Create + Close + Delete, Attach + Close (time ratio, lower is better)", "Create + Close|Attach + Close"},
	{"perf-large.svg", "1 GiB arrays: fill, copy out, import (time ratio; Fortran: throughput)", "Create 1|Attach a filled|Import"},
	{"perf-export.svg", "Export to .npy (throughput ratio, higher is better)", "Export"},
	{"perf-list.svg", "List 10,000 segments (time ratio, lower is better)", "List"},
}

func main() {
	in := flag.String("in", "", "benchrun -json output")
	rings := flag.String("rings", "", "ringbench -json output (optional): wake-up latency box plots")
	out := flag.String("out", ".", "directory for the SVG files")
	ext := flag.String("ext", "svg", "image format: svg or png")
	flag.Parse()
	b, err := os.ReadFile(*in)
	if err != nil {
		fail(err)
	}
	var r run
	if err := json.Unmarshal(b, &r); err != nil {
		fail(err)
	}
	for _, g := range groups {
		var bars []bar
		for _, row := range r.Rows {
			if !matches(row.Name, g.prefix) {
				continue
			}
			for _, q := range row.Ratios {
				bars = append(bars, bar{label: short(row.Name) + ": " + q.Num + " / " + q.Den, r: q})
			}
		}
		if len(bars) == 0 {
			continue
		}
		file := strings.TrimSuffix(g.file, ".svg") + "." + *ext
		if err := draw1(filepath.Join(*out, file), g.title, r.Machine+", "+r.Date, bars); err != nil {
			fail(err)
		}
		fmt.Println("benchchart:", filepath.Join(*out, file))
	}
	if *rings != "" {
		file := filepath.Join(*out, "perf-rings."+*ext)
		if err := drawRings(*rings, file, r.Machine+", "+r.Date); err != nil {
			fail(err)
		}
		fmt.Println("benchchart:", file)
	}
}

// drawRings draws the ring wake-up latencies, one box per variant (box:
// quartiles, whiskers: 1.5 × the interquartile range, points beyond),
// on a log scale in microseconds.
func drawRings(in, path, subtitle string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var r struct {
		Pattern   string // how the writer paced its frames (ringbench; "" before it said)
		Order     []string
		Latencies map[string][]int64
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	p := plot.New()
	if r.Pattern != "" {
		subtitle = r.Pattern + "; " + subtitle
	}
	p.Title.Text = "Frame rings: wake-up latency, writer -> reader in another process\n" + subtitle
	p.Title.TextStyle.Font.Size = vg.Points(9)
	p.Y.Label.Text = "µs (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	for i, label := range r.Order {
		vals := make(plotter.Values, 0, len(r.Latencies[label]))
		for _, ns := range r.Latencies[label] {
			vals = append(vals, max(float64(ns)/1e3, 0.1))
		}
		box, err := plotter.NewBoxPlot(vg.Points(30), float64(i), vals)
		if err != nil {
			return err
		}
		p.Add(box)
	}
	p.NominalX(r.Order...)
	width, height := 6*vg.Inch, 3.5*vg.Inch
	if len(r.Order) > 6 { // ringbench's many variants: slanted labels, wider chart
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
		width, height = max(width, vg.Length(len(r.Order))*0.5*vg.Inch), 5*vg.Inch
	}
	return p.Save(width, height, path)
}

func matches(name, prefixes string) bool {
	for _, p := range strings.Split(prefixes, "|") {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// short shortens a row name for an axis label.
func short(name string) string {
	r := strings.NewReplacer("Create + Close + Delete", "C+C+D", "Attach + Close", "A+C", "Attach a filled 1 GiB array, copy it out, Close", "copy out 1 GiB",
		"Create 1 GiB float64, fill through a View, Close", "create+fill 1 GiB", "Import a 1 GiB .npy into a new shared array", "import 1 GiB",
		"Export 1 GiB to .npy on disk, ", "export ", "List 10000 segments", "List 10,000")
	return r.Replace(name)
}

type bar struct {
	label string
	r     ratio
}

var (
	green = color.RGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	red   = color.RGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
)

// draw1 draws one horizontal bar chart: a bar per ratio (green where the
// goal is met), whiskers from the first to the third quartile of the
// per-repetition ratios, a black tick at the goal, a line at 1.
func draw1(path, title, subtitle string, bars []bar) error {
	p := plot.New()
	p.Title.Text = title + "\n" + subtitle
	p.Title.TextStyle.Font.Size = vg.Points(9)
	p.X.Label.Text = "ratio to baseline (median; whiskers: quartiles of the per-repetition ratios; black tick: goal)"
	p.X.Label.TextStyle.Font.Size = vg.Points(8)
	n := len(bars)
	names := make([]string, n)
	maxX := 1.2
	for i, b := range bars {
		j := n - 1 - i // first bar on top
		names[j] = b.label
		vals := make(plotter.Values, n)
		vals[j] = b.r.Median
		h, err := plotter.NewBarChart(vals, vg.Points(9))
		if err != nil {
			return err
		}
		h.Horizontal = true
		h.LineStyle.Width = 0
		h.Color = red
		if b.r.Met {
			h.Color = green
		}
		p.Add(h)
		errs, err := plotter.NewXErrorBars(errPoints{{x: b.r.Median, y: float64(j), lo: b.r.Median - b.r.Q1, hi: b.r.Q3 - b.r.Median}})
		if err != nil {
			return err
		}
		p.Add(errs)
		goal, err := plotter.NewScatter(plotter.XYs{{X: b.r.Target, Y: float64(j)}})
		if err != nil {
			return err
		}
		goal.GlyphStyle.Shape = draw.BoxGlyph{}
		goal.GlyphStyle.Radius = vg.Points(2)
		goal.GlyphStyle.Color = color.Black
		p.Add(goal)
		maxX = max(maxX, b.r.Q3*1.05, b.r.Target*1.1)
	}
	ref, err := plotter.NewLine(plotter.XYs{{X: 1, Y: -0.5}, {X: 1, Y: float64(n) - 0.5}})
	if err != nil {
		return err
	}
	ref.LineStyle.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	p.Add(ref)
	p.NominalY(names...)
	p.Y.Tick.Label.Font.Size = vg.Points(7)
	p.X.Min, p.X.Max = 0, maxX
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	return p.Save(7*vg.Inch, vg.Length(float64(n)*0.26+1.2)*vg.Inch, path)
}

// errPoints are points with asymmetric horizontal errors.
type errPoints []struct{ x, y, lo, hi float64 }

func (e errPoints) Len() int                        { return len(e) }
func (e errPoints) XY(i int) (float64, float64)     { return e[i].x, e[i].y }
func (e errPoints) XError(i int) (float64, float64) { return e[i].lo, e[i].hi }

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchchart:", err)
	os.Exit(1)
}
