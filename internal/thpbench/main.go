// Command thpbench measures what transparent huge pages give a shared
// array: a 1 GiB float64 array created, filled through a View and closed,
// then attached read-only and copied out, as file:// arrays on two tmpfs
// mounts, one with huge pages and one without, with and without Prefault.
// The variants alternate within each repetition. docs/performance.md has
// a run; to reproduce (as root):
//
//	mkdir -p /mnt/sa-huge /mnt/sa-small
//	mount -t tmpfs -o size=3G,huge=always none /mnt/sa-huge
//	mount -t tmpfs -o size=3G,huge=never none /mnt/sa-small
//	go run ./internal/thpbench -huge /mnt/sa-huge -small /mnt/sa-small
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	sa "github.com/sharedarray/sharedarray"
)

func main() {
	huge := flag.String("huge", "", "a tmpfs mounted with huge=always (required)")
	small := flag.String("small", "", "a tmpfs mounted with huge=never (required)")
	reps := flag.Int("reps", 5, "repetitions")
	gib := flag.Int("gib", 1, "array size in GiB")
	flag.Parse()
	if *huge == "" || *small == "" {
		fmt.Fprintln(os.Stderr, "thpbench: -huge and -small are required")
		os.Exit(2)
	}
	n := *gib << 27 // float64 elements
	dst := make([]byte, 8*n)
	for i := range dst { // fault the destination in outside the timing
		dst[i] = 1
	}
	type key struct {
		op, dir  string
		prefault bool
	}
	res := map[key][]time.Duration{}
	for range *reps {
		for _, dir := range []string{*small, *huge} {
			for _, pre := range []bool{false, true} {
				path := filepath.Join(dir, fmt.Sprintf("sharedarray-bench-thp-%d", os.Getpid()))
				fill, cp, err := run("file://"+path, n, pre, dst)
				os.Remove(path)
				if err != nil {
					fmt.Fprintln(os.Stderr, "thpbench:", err)
					os.Exit(1)
				}
				res[key{"create + fill + close", dir, pre}] = append(res[key{"create + fill + close", dir, pre}], fill)
				res[key{"attach + copy out + close", dir, pre}] = append(res[key{"attach + copy out + close", dir, pre}], cp)
			}
		}
	}
	fmt.Printf("| operation (%d GiB) | tmpfs | Prefault | median | min – max | huge / small |\n|---|---|---|---|---|---|\n", *gib)
	med := func(k key) time.Duration {
		s := slices.Clone(res[k])
		slices.Sort(s)
		return s[len(s)/2]
	}
	for _, op := range []string{"create + fill + close", "attach + copy out + close"} {
		for _, pre := range []bool{false, true} {
			for _, dir := range []string{*small, *huge} {
				k := key{op, dir, pre}
				s := slices.Clone(res[k])
				slices.Sort(s)
				ratio := ""
				if dir == *huge {
					ratio = fmt.Sprintf("%.2f×", med(k).Seconds()/med(key{op, *small, pre}).Seconds())
				}
				label := "huge=never"
				if dir == *huge {
					label = "huge=always"
				}
				fmt.Printf("| %s | %s | %v | %.1f ms | %.1f – %.1f ms | %s |\n", op, label, pre,
					ms(s[len(s)/2]), ms(s[0]), ms(s[len(s)-1]), ratio)
			}
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// run creates, fills and closes the array, then attaches it read-only and
// copies it out; it returns both times.
func run(name string, n int, prefault bool, dst []byte) (fill, cp time.Duration, err error) {
	var opts []sa.Option
	if prefault {
		opts = append(opts, sa.Prefault())
	}
	t0 := time.Now()
	a, err := sa.Create(name, []int{n}, sa.Float64, opts...)
	if err != nil {
		return 0, 0, err
	}
	v, err := sa.View[float64](a)
	if err != nil {
		return 0, 0, err
	}
	for i := range v {
		v[i] = 1
	}
	a.Close()
	fill = time.Since(t0)
	t0 = time.Now()
	if a, err = sa.Attach(name, append(opts, sa.ReadOnly())...); err != nil {
		return 0, 0, err
	}
	_, err = a.CopyTo(dst, 0)
	a.Close()
	return fill, time.Since(t0), err
}
