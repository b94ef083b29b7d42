package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sharedarray/sharedarray"
)

var topCommand = &command{
	name:  "top",
	args:  "[--json] [-n COUNT] NAME...",
	short: "watch frame rings live: rates, writer, readers and their lag",
	help:  "Watch frame rings live, refreshed every second: publish rate, head, generation, the writer's pid and command, and per reader its pid, command, language, lag (frames and ms) and overrun rate. Quit with q or Ctrl-C. --json prints one snapshot (rates over one second) and exits.",
	run:   (*cli).top,
}

func (c *cli) topFlags() {
	c.fs.BoolVar(&c.json, "json", false, "print one snapshot as JSON (docs/cli.md has the fields) and exit")
	c.fs.IntVar(&c.count, "n", 0, "refresh this many `times`, then exit (0: until q or Ctrl-C)")
}

// topRing is one ring in top's JSON (and what its screen shows).
type topRing struct {
	Name        string      `json:"name"`
	Version     int         `json:"version"`
	Slots       int         `json:"slots"`
	FrameShape  []int       `json:"frame_shape"`
	Dtype       string      `json:"dtype"`
	Head        uint64      `json:"head"`
	Generation  uint64      `json:"generation"`
	PublishRate *float64    `json:"publish_rate"` // frames/s over the last interval; null on the first
	Writer      *topProcess `json:"writer"`       // null: no live writer
	Readers     int         `json:"readers"`      // registered readers
	ReaderList  []topReader `json:"reader_list"`  // null for a version 1 ring
	Error       string      `json:"error,omitempty"`
}

type topProcess struct {
	PID     int    `json:"pid"`
	Command string `json:"command"` // /proc/PID/comm, "" if unknown
}

type topReader struct {
	topProcess
	LockByte    int      `json:"lock_byte"`
	Language    string   `json:"language"`
	Pos         uint64   `json:"pos"`
	LagFrames   uint64   `json:"lag_frames"`
	LagMS       float64  `json:"lag_ms"`
	Overruns    uint64   `json:"overruns"`
	OverrunRate *float64 `json:"overrun_rate"` // overruns/s over the last interval; null on the first
	Suspect     string   `json:"suspect,omitempty"`
}

// procComm returns a process's command name, or "".
func procComm(pid int) string {
	if pid <= 0 {
		return ""
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil || len(b) > 64 {
		return ""
	}
	return visible(strings.TrimSpace(string(b)))
}

// topState keeps the previous sample, for rates.
type topState struct {
	at   time.Time
	head map[string]uint64
	over map[string]uint64 // name|byte|pid -> overruns
}

func (s *topState) sample(names []string) []topRing {
	now := time.Now()
	dt := now.Sub(s.at).Seconds()
	first := s.head == nil
	head := map[string]uint64{}
	over := map[string]uint64{}
	var out []topRing
	for _, n := range names {
		tr := topRing{Name: n}
		ri, err := sharedarray.StatRing(n)
		if err != nil {
			tr.Error = err.Error()
			out = append(out, tr)
			continue
		}
		tr.Version, tr.Slots, tr.FrameShape, tr.Dtype = ri.Version, ri.Slots, ri.FrameShape, ri.Dtype.Name()
		tr.Head, tr.Generation, tr.Readers = ri.Head, ri.Generation, ri.Readers
		if ri.WriterAlive {
			tr.Writer = &topProcess{PID: ri.WriterPID, Command: procComm(ri.WriterPID)}
		}
		head[n] = ri.Head
		if h, ok := s.head[n]; ok && !first && dt > 0 && ri.Head >= h {
			r := float64(ri.Head-h) / dt
			tr.PublishRate = &r
		}
		if ri.ReaderList != nil {
			tr.ReaderList = []topReader{}
		}
		for _, rd := range ri.ReaderList {
			x := topReader{topProcess: topProcess{PID: rd.PID, Command: procComm(rd.PID)},
				LockByte: rd.LockByte, Language: rd.Language, Pos: rd.Pos, LagFrames: rd.Lag,
				LagMS: float64(rd.LagNanos) / 1e6, Overruns: rd.Overruns, Suspect: rd.Suspect}
			key := fmt.Sprintf("%s|%d|%d", n, rd.LockByte, rd.PID)
			over[key] = rd.Overruns
			if o, ok := s.over[key]; ok && dt > 0 && rd.Overruns >= o {
				r := float64(rd.Overruns-o) / dt
				x.OverrunRate = &r
			}
			tr.ReaderList = append(tr.ReaderList, x)
		}
		out = append(out, tr)
	}
	s.at, s.head, s.over = now, head, over
	return out
}

func rate(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f/s", *p)
}

// render writes one screen. Ring names and process commands are quoted
// as everywhere in the CLI: any user can name a process (prctl
// PR_SET_NAME) or a ring with terminal escape sequences.
func renderTop(w io.Writer, rings []topRing) {
	for _, r := range rings {
		if r.Error != "" {
			fmt.Fprintf(w, "%s: %s\n\n", quote(r.Name), r.Error)
			continue
		}
		writer := "no writer"
		if r.Writer != nil {
			writer = fmt.Sprintf("writer pid %d (%s)", r.Writer.PID, quote(r.Writer.Command))
		}
		fmt.Fprintf(w, "%s  ring v%d, %d slots of %v %s\n", quote(r.Name), r.Version, r.Slots, r.FrameShape, r.Dtype)
		// Two short lines rather than one: a screen fits 80 columns.
		fmt.Fprintf(w, "  head %d  generation %d  publishing %s\n", r.Head, r.Generation, rate(r.PublishRate))
		fmt.Fprintf(w, "  %s  %d reader(s)\n", writer, r.Readers)
		if r.ReaderList == nil {
			fmt.Fprintf(w, "  (a version 1 ring: readers do not publish their progress)\n\n")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  PID\tCOMMAND\tLANG\tLAG\tLAG ms\tOVERRUNS\tOVERRUN RATE")
		for _, x := range r.ReaderList {
			lang := x.Language
			if lang == "" {
				lang = "?"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%d\t%.1f\t%d\t%s\n", x.PID, quote(x.Command), lang, x.LagFrames, x.LagMS, x.Overruns, rate(x.OverrunRate))
		}
		tw.Flush()
		// Suspect entries on their own lines under the table (a column
		// would not fit 80 columns, a line inside it would break its
		// alignment).
		for _, x := range r.ReaderList {
			if x.Suspect != "" {
				fmt.Fprintf(w, "  suspect, lock byte %d: %s\n", x.LockByte, x.Suspect)
			}
		}
		fmt.Fprintln(w)
	}
}

func (c *cli) top(args []string) int {
	if len(args) == 0 {
		c.usageError("name a ring to watch (sharedarray ls lists them)")
		return exitUsage
	}
	count := c.count
	if count < 0 {
		c.usageError("-n wants a count (0 or more), not %d", count)
		return exitUsage
	}
	var st topState
	if c.json {
		st.sample(args)
		time.Sleep(time.Second)
		rings := st.sample(args)
		b, _ := json.MarshalIndent(rings, "", "  ")
		fmt.Fprintln(c.stdout, string(b))
		for _, r := range rings {
			if r.Error != "" {
				return exitFail
			}
		}
		return exitOK
	}
	term := isTerminal(c.stdout)
	keys, restore := readKeys()
	defer restore()
	sig := make(chan os.Signal, 1)
	// SIGPIPE too: a closed pipe (top | head) is then a write error that
	// returns through restore, instead of killing the process with the
	// terminal left without line mode and echo.
	signal.Notify(sig, topSignals...)
	defer signal.Stop(sig)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for n := 1; ; n++ {
		rings := st.sample(args)
		var b strings.Builder
		if term {
			b.WriteString("\x1b[H\x1b[2J") // home, clear: any ANSI terminal
		}
		fmt.Fprintf(&b, "sharedarray top  %s  (q or Ctrl-C quits)\n\n", time.Now().Format("15:04:05"))
		renderTop(&b, rings)
		if _, err := io.WriteString(c.stdout, b.String()); err != nil {
			return exitFail // nobody reads what top writes (a closed pipe)
		}
		if count > 0 && n >= count {
			return exitOK
		}
		select {
		case <-tick.C:
		case <-sig:
			return exitOK
		case k := <-keys:
			if k == 'q' || k == 'Q' || k == 3 {
				return exitOK
			}
		}
	}
}
