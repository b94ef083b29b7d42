package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// progress draws a bar on stderr for a transfer, when stderr is a terminal
// and the transfer has lasted more than a moment.
type progress struct {
	w     io.Writer
	label string
	total int64
	n     atomic.Int64
	stop  chan struct{}
	exit  chan struct{}
}

const progressDelay = 500 * time.Millisecond

func newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, label: label, total: total}
	if !isTerminal(w) || total <= 0 {
		return p
	}
	p.stop, p.exit = make(chan struct{}), make(chan struct{})
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.exit)
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	drawn := false
	for {
		select {
		case <-p.stop:
			if drawn {
				p.draw(start)
				fmt.Fprintln(p.w)
			}
			return
		case <-tick.C:
			if time.Since(start) >= progressDelay {
				p.draw(start)
				drawn = true
			}
		}
	}
}

func (p *progress) draw(start time.Time) {
	n := min(p.n.Load(), p.total)
	frac := float64(n) / float64(p.total)
	const width = 30
	bar := strings.Repeat("=", int(frac*width)) + strings.Repeat(" ", width-int(frac*width))
	rate := float64(n) / time.Since(start).Seconds() / (1 << 20)
	fmt.Fprintf(p.w, "\r%s [%s] %3.0f%% %.0f MiB/s", p.label, bar, 100*frac, rate)
}

func (p *progress) done() {
	if p.stop != nil {
		close(p.stop)
		<-p.exit
	}
}

type countReader struct {
	r io.Reader
	p *progress
}

// readChunk caps each read so the bar moves steadily: a reader asked for
// a whole 1 GiB array in one call would otherwise jump from 0 to 100 %.
// 8 MiB reads cost no measurable speed (the system call overhead is a few
// microseconds against milliseconds of copying).
const readChunk = 8 << 20

func (c countReader) Read(b []byte) (int, error) {
	if len(b) > readChunk {
		b = b[:readChunk]
	}
	n, err := c.r.Read(b)
	c.p.n.Add(int64(n))
	return n, err
}

func (p *progress) reader(r io.Reader) io.Reader { return countReader{r, p} }

// active reports whether the bar is drawn (stderr is a terminal).
func (p *progress) active() bool { return p.stop != nil }

// fileCountReader counts what is read from a file and still lets
// LoadNPYFrom ask the file its size (Stat) and read position (Seek), so a
// file shorter than its header claims is refused before anything is
// reserved.
type fileCountReader struct {
	countReader
	f *os.File
}

func (c fileCountReader) Stat() (os.FileInfo, error) { return c.f.Stat() }

func (c fileCountReader) Seek(off int64, whence int) (int64, error) {
	return c.f.Seek(off, whence)
}

func (p *progress) fileReader(f *os.File) io.Reader { return fileCountReader{countReader{f, p}, f} }
