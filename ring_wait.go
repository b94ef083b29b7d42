package sharedarray

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/sharedarray/sharedarray/internal/shmatomic"
)

// How a reader waits for a frame that is not published yet: it sleeps on
// the futex by default, spins first when asked (WithSpin), or learns the
// frame period of a periodic writer and wakes just before the next frame is
// due (WithPredict). docs/ring.md §3.5 gives the reasons and the figures.

type readerConfig struct {
	spin    time.Duration
	predict bool
	oldest  bool
	waitCtx context.Context // WaitForRing; nil: do not wait
}

// WithSpin makes a reader that finds no new frame poll the ring's head for
// up to d before it sleeps on the futex, once per frame it waits for. A
// frame published within d is seen within about a microsecond instead of
// after a wake-up from sleep (tens of microseconds on most machines: the
// scheduler must wake the reader's thread), at the price of up to d of CPU
// per frame. A reader that waits longer than d sleeps as without the
// option. The default is no spin beyond a few Gosched calls: frames that
// arrive at camera or sensor rates come milliseconds apart, where a fixed
// spin burns CPU and rarely catches a frame; WithPredict serves such
// sources better.
func WithSpin(d time.Duration) Option {
	return Option{"WithSpin", forReader, func(o options) options { o.reader.spin = max(d, 0); return o }}
}

// WithPredict makes a reader learn when frames come from the publish
// times of the frames it reads and, while they come regularly, sleep until
// shortly before the next frame is due and then poll the head until it
// arrives: the latency of WithSpin for a periodic writer, at a small share
// of a core. The polling window is at most a fifth of the period (the
// reader's timed sleep ends earlier by how late its sleeps end), placed
// where it would have caught the most of the last 32 frames; the writer
// counts as regular while it would have caught at least half of them,
// and the reader's sleeps end less than half a period late, so frames that jitter
// by a good part of that window, or come late now and then, are still
// predicted. When they do not come regularly, after a pause of more than
// four periods, or when the writer publishes no times, the reader waits
// as without the option (or as WithSpin says, if given too). A frame
// published earlier than predicted still wakes the reader at once.
func WithPredict() Option {
	return Option{"WithPredict", forReader, func(o options) options { o.reader.predict = true; return o }}
}

// WithOldest makes a new reader start at the oldest frame still in the
// ring instead of the next one published: a reader that starts after the
// writer still gets the frames the ring holds.
func WithOldest() Option {
	return Option{"WithOldest", forReader, func(o options) options { o.reader.oldest = true; return o }}
}

// WaitForRing makes OpenRingReader wait for a ring that does not exist
// yet (or is not complete yet: a Python writer's create grows the file
// and writes the control block after SharedArray.create), looking every
// 5 ms, until it opens or ctx is done; it then returns the last error
// (matching ErrNotExist, ErrNotRing or ErrFormat). Other errors
// (permissions, say) are returned at once. A reader and its writer can
// then start in any order.
func WaitForRing(ctx context.Context) Option {
	return Option{"WaitForRing", forReader, func(o options) options { o.reader.waitCtx = ctx; return o }}
}

// openRingWaiting is openRing for a reader, retrying as WaitForRing says.
func openRingWaiting(name string, cfg *readerConfig) (*ring, error) {
	for {
		r, err := openRing("open ring reader", name, false)
		if err == nil || cfg.waitCtx == nil {
			return r, err
		}
		if !errors.Is(err, ErrNotExist) && !errors.Is(err, ErrNotRing) && !errors.Is(err, ErrFormat) {
			return nil, err
		}
		t := time.NewTimer(5 * time.Millisecond)
		select {
		case <-cfg.waitCtx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// predictor learns the period and the phase of the frames a reader reads,
// and where the next frame falls around its predicted time.
//
// The period is measured over a long baseline (from a reference frame up
// to 1024 frames back), so one late frame barely moves it. Two predictions
// of the next frame are kept: from a grid (when the last frame was due,
// snapped to a frame that comes early and following late ones by an
// eighth: a source with its own clock, such as a camera, whose frames
// scheduling delays only make late), and from the last frame's time (a
// writer whose own sleeps set the pace, such as a Go loop of time.Sleep,
// whose lateness carries over from frame to frame). Each frame's error
// against both is remembered for the last predictHist frames. The reader
// then polls a window of at most a fifth of the period (its margin
// included; its timed sleep ends earlier by the sleeps' measured
// lateness, which the sleep itself overruns) placed where it would have caught the most of those frames, using the
// prediction that catches more; the source counts as regular when that
// window would have caught at least half of them. The errors' spread is
// thus judged by their bulk, as a median is, not by their mean or their
// maximum: a frame late by milliseconds now and then costs that frame a
// sleeping reader's latency, not the prediction.
type predictor struct {
	lastSeq   uint64 // last frame observed
	lastTime  int64  // its publish time, ns
	grid      int64  // when it was due, ns
	have      bool   // lastSeq, lastTime and grid set
	refSeq    uint64 // reference frame of the period's baseline
	refTime   int64
	midSeq    uint64 // the next reference, half way
	midTime   int64
	period    int64              // ns; 0 while unknown
	samples   int                // frames since the reference
	errGrid   [predictHist]int64 // recent errors against the grid's prediction, ns (ring)
	errLast   [predictHist]int64 // and against the last frame's time + period
	nerr      int                // errors recorded (up to predictHist in the rings)
	plan      predictPlan        // recomputed for each frame
	oversleep int64              // smoothed lateness of this reader's timed sleeps, ns
	spunFor   uint64             // frame the spin budget was spent on (+1; 0: none)
}

// predictPlan is where the next frame is expected: the polling window is
// [base + period + lo − lead, base + period + hi], base being the grid or
// the last frame's time.
type predictPlan struct {
	ok       bool
	fromLast bool  // base is the last frame's time, not the grid
	lo, hi   int64 // window around the prediction, ns
	caught   int   // recent frames the window would have caught
}

// Prediction constants. A timed sleep on Linux ends up to the timer slack
// (50 µs for ordinary threads) plus a wake-up late; the lead starts
// there and then follows the measured lateness.
const (
	predictMinSamples  = 16
	predictHist        = 32     // frames whose errors place the window
	predictInitOver    = 60_000 // ns, assumed lateness before any is measured
	predictMinMargin   = 20_000 // ns
	predictMaxPeriod   = int64(10 * time.Second)
	predictWindowShare = 5 // the polling window, margin included, is at most period/5
	predictPause       = 4 // a gap over this many periods restarts the learning
)

// observe learns from frame s-1, the last one returned before the reader
// waits for frame s (its slot is checked: only a complete frame counts).
func (rd *RingReader) observe(s uint64) {
	p := &rd.pred
	if s == 0 || (p.have && p.lastSeq == s-1) {
		return
	}
	f := s - 1
	i := f % rd.slots
	if shmatomic.Load64(rd.seq(i)) != 2*f+2 {
		return
	}
	t := int64(shmatomic.Load64(rd.stamp(i)))
	if shmatomic.Load64(rd.seq(i)) != 2*f+2 {
		return
	}
	p.learn(f, t)
}

// restart forgets what was learned and starts from frame f at t (t ≤ 0:
// the writer sets no times).
func (p *predictor) restart(f uint64, t int64) {
	*p = predictor{oversleep: p.oversleep, spunFor: p.spunFor, have: t > 0,
		lastSeq: f, lastTime: t, grid: t, refSeq: f, refTime: t, midSeq: f, midTime: t}
}

// learn takes frame f, published at t.
func (p *predictor) learn(f uint64, t int64) {
	if t <= 0 || !p.have || f <= p.lastSeq || t <= p.refTime || f-p.lastSeq > 1<<20 {
		// The first frame, no publish times, or something odd: start over.
		p.restart(f, t)
		return
	}
	k := int64(f - p.lastSeq)
	gap := (t - p.refTime) / int64(f-p.refSeq)
	if gap > predictMaxPeriod || (p.period > 0 && t-p.lastTime > predictPause*k*p.period) {
		// A pause, not a period: learn again from here.
		p.restart(f, t)
		return
	}
	if p.period > 0 {
		// Errors against the predictions made before this frame came.
		p.errGrid[p.nerr%predictHist] = t - (p.grid + k*p.period)
		p.errLast[p.nerr%predictHist] = t - (p.lastTime + k*p.period)
		p.nerr++
	}
	p.period = gap
	p.samples++
	due := p.grid + k*p.period
	if t < due {
		due = t
	} else {
		due += (t - due) / 8
	}
	p.lastSeq, p.lastTime, p.grid = f, t, due
	if f-p.refSeq >= 1024 {
		p.refSeq, p.refTime = p.midSeq, p.midTime
	}
	if f-p.midSeq >= 512 {
		p.midSeq, p.midTime = f, due // the grid: not a frame's lateness
	}
	p.replan()
}

// addNanos returns t + d, saturated at the largest time: WithSpin of a
// huge d (math.MaxInt64) means spin without end, not an end in the past.
func addNanos(t int64, d time.Duration) int64 {
	if d > 0 && t > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return t + int64(d)
}

// lead is how long before the polling window the reader's timed sleep is
// to end: its own measured lateness plus a margin. Only the margin is
// polled on average: the lateness is the time the sleep itself overruns.
func (p *predictor) lead() int64 {
	over := p.oversleep
	if over == 0 {
		over = predictInitOver
	}
	return predictMinMargin + over
}

// replan places the polling window for the next frame (see predictor).
func (p *predictor) replan() {
	p.plan = predictPlan{}
	n := min(p.nerr, predictHist)
	if p.samples < predictMinSamples || n < predictMinSamples || p.period <= 0 {
		return
	}
	// The polled time, margin and window, is at most period/5; a reader
	// whose sleeps end later than half a period cannot aim its wake-up.
	width := p.period/predictWindowShare - predictMinMargin
	if width <= 0 || 2*p.lead() > p.period {
		return
	}
	for _, fromLast := range []bool{false, true} {
		errs := p.errGrid
		if fromLast {
			errs = p.errLast
		}
		lo, caught := bestWindow(errs[:n], width)
		if caught > p.plan.caught {
			p.plan = predictPlan{fromLast: fromLast, lo: lo, hi: lo + width, caught: caught}
		}
	}
	p.plan.ok = 2*p.plan.caught >= n
}

// bestWindow sorts errs and returns the start of a window width long that
// holds the most of them, and how many it holds.
func bestWindow(errs []int64, width int64) (lo int64, caught int) {
	slices.Sort(errs)
	j := 0
	for i := range errs {
		for j < len(errs) && errs[j]-errs[i] <= width {
			j++
		}
		if j-i > caught {
			lo, caught = errs[i], j-i
		}
	}
	return lo, caught
}

// regular reports whether the next frame's time can be predicted, and
// the window to poll: from start to end (nanotime).
func (p *predictor) regular() (start, end int64, ok bool) {
	if !p.have || !p.plan.ok {
		return 0, 0, false
	}
	due := p.grid + p.period
	if p.plan.fromLast {
		due = p.lastTime + p.period
	}
	return due + p.plan.lo - p.lead(), due + p.plan.hi, true
}

// beforeSleep runs when frame s is not published yet. It polls the head
// while the reader's spin budget or the prediction says so, and returns
// true if the frame came meanwhile. Otherwise it returns the longest the
// reader may sleep (at most d), and whether that sleep is a timed one
// ending before a predicted frame.
func (rd *RingReader) beforeSleep(ctx context.Context, s uint64, d time.Duration) (ready bool, sleep time.Duration, timed bool) {
	if !rd.cfg.predict && rd.cfg.spin == 0 {
		// A short spin: a frame due within microseconds costs no sleep.
		for range 64 {
			if shmatomic.Load64(rd.head()) > s {
				return true, 0, false
			}
			runtime.Gosched()
		}
		return false, d, false
	}
	p := &rd.pred
	if rd.cfg.predict {
		rd.observe(s)
		if start, end, ok := p.regular(); ok {
			now := nanotime()
			switch {
			case now < start:
				return false, min(d, time.Duration(start-now)), true
			case now < end:
				if rd.spinUntil(ctx, s, end) {
					return true, 0, false
				}
				return false, d, false
			}
			// Past the window: the frame is late; sleep (or spin below).
		}
	}
	if rd.cfg.spin > 0 && p.spunFor != s+1 {
		p.spunFor = s + 1
		if rd.spinUntil(ctx, s, addNanos(nanotime(), rd.cfg.spin)) {
			return true, 0, false
		}
	}
	return false, d, false
}

// afterTimedSleep records how late a timed sleep that was to end at
// target (nanotime) ended.
func (rd *RingReader) afterTimedSleep(target int64) {
	late := nanotime() - target
	if late < 0 { // woken early: by a frame, or a stray wake
		return
	}
	p := &rd.pred
	late = min(late, int64(time.Millisecond))
	if p.oversleep == 0 {
		p.oversleep = late
	} else {
		p.oversleep += (late - p.oversleep) / 8
	}
}

// spinUntil polls the head until it passes s (true), or until nanotime
// reaches end, the reader is closed or ctx is done (false).
func (rd *RingReader) spinUntil(ctx context.Context, s uint64, end int64) bool {
	for k := 0; ; k++ {
		if shmatomic.Load64(rd.head()) > s {
			return true
		}
		if k&63 == 63 {
			if rd.closed.Load() || nanotime() >= end || ctx.Err() != nil {
				return false
			}
			if k&4095 == 4095 {
				// Let another goroutine of this process run on a
				// machine with fewer Ps than spinning readers.
				runtime.Gosched()
			}
		}
	}
}
