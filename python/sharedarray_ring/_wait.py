"""How a reader waits: sleep (default), spin first, or predict the next frame.

The same policy as the Go reader's WithSpin and WithPredict (ring_wait.go
of the sharedarray Go module, where the policy is explained; docs/ring.md
§3.5). Times are CLOCK_MONOTONIC nanoseconds, the clock of Frame.time_ns
(time.monotonic_ns()).
"""

import numbers

MIN_SAMPLES = 16
HIST = 32                 # frames whose errors place the polling window
INIT_OVERSLEEP = 80_000   # ns assumed before a timed sleep was measured (Python wakes later than Go)
MIN_MARGIN = 20_000       # ns
MAX_PERIOD = 10_000_000_000
WINDOW_SHARE = 5          # the polled window, margin included, is at most period / 5
PAUSE = 4                 # a gap over this many periods restarts the learning


def _best_window(errs, width):
    """(start, count): a window width long holding the most of errs."""
    e = sorted(errs)
    lo, caught, j = 0, 0, 0
    for i, x in enumerate(e):
        while j < len(e) and e[j] - x <= width:
            j += 1
        if j - i > caught:
            lo, caught = x, j - i
    return lo, caught


class Waiter:
    """Wait policy of one reader: spin budget and period prediction."""

    __slots__ = ("spin_ns", "predict", "last_seq", "last_time", "grid", "ref_seq", "ref_time",
                 "mid_seq", "mid_time", "period", "samples", "err_grid", "err_last", "nerr",
                 "win", "pending", "oversleep", "spun_for")

    def __init__(self, spin=0.0, predict=False):
        if not isinstance(spin, numbers.Real):
            raise TypeError("spin must be a number of seconds, not %r" % (spin,))
        spin = float(spin)
        if not spin >= 0:  # also refuses NaN
            raise ValueError("spin must be >= 0 seconds, not %r" % spin)
        # inf (or anything past 2**62 ns) spins until the frame or the
        # timeout, as the longest spin: int(inf) would raise OverflowError.
        self.spin_ns = int(min(spin, 2.0 ** 62 / 1e9) * 1e9)
        self.predict = bool(predict)
        self.oversleep = 0
        self.spun_for = -1
        self.pending = None
        self._reset(-1, 0)

    def _reset(self, seq, t):
        self.last_seq = seq
        self.last_time = self.grid = self.ref_time = self.mid_time = t
        self.ref_seq = self.mid_seq = seq
        self.period = self.samples = self.nerr = 0
        self.err_grid = [0] * HIST
        self.err_last = [0] * HIST
        self.win = None  # (from_last, lo, hi) while regular

    def observe(self, seq, t):
        """Note frame seq, published at t (0: the writer sets no times).

        Cheap: the frame is learned by the next plan(), once the caller
        has its frame.
        """
        self.pending = (seq, t)

    def _learn(self, seq, t):
        """As predictor.learn in ring_wait.go."""
        if (t <= 0 or self.last_seq < 0 or seq <= self.last_seq or t <= self.ref_time
                or seq - self.last_seq > 1 << 20):
            self._reset(seq if t > 0 else -1, t)
            return
        k = seq - self.last_seq
        gap = (t - self.ref_time) // (seq - self.ref_seq)
        if gap > MAX_PERIOD or (self.period > 0 and t - self.last_time > PAUSE * k * self.period):
            self._reset(seq, t)
            return
        if self.period > 0:
            i = self.nerr % HIST
            self.err_grid[i] = t - (self.grid + k * self.period)
            self.err_last[i] = t - (self.last_time + k * self.period)
            self.nerr += 1
        self.period = gap
        self.samples += 1
        due = self.grid + k * gap
        if t < due:
            due = t
        else:
            due += (t - due) // 8
        self.last_seq, self.last_time, self.grid = seq, t, due
        if seq - self.ref_seq >= 1024:
            self.ref_seq, self.ref_time = self.mid_seq, self.mid_time
        if seq - self.mid_seq >= 512:
            self.mid_seq, self.mid_time = seq, due
        self._replan()

    def lead(self):
        return MIN_MARGIN + (self.oversleep or INIT_OVERSLEEP)

    def _replan(self):
        self.win = None
        n = min(self.nerr, HIST)
        if self.samples < MIN_SAMPLES or n < MIN_SAMPLES or self.period <= 0:
            return
        # The polled time, margin and window, is at most period / 5 (the
        # sleep's measured lateness is overrun by the sleep itself); a reader
        # whose sleeps end later than half a period cannot aim its wake-up.
        width = self.period // WINDOW_SHARE - MIN_MARGIN
        if width <= 0 or 2 * self.lead() > self.period:
            return
        best = None
        for from_last, errs in ((False, self.err_grid), (True, self.err_last)):
            lo, caught = _best_window(errs[:n], width)
            if best is None or caught > best[0]:
                best = (caught, from_last, lo)
        caught, from_last, lo = best
        if 2 * caught >= n:
            self.win = (from_last, lo, lo + width)

    def regular(self):
        """The window (start, end) to poll for the next frame, or None."""
        if self.pending is not None:
            seq, t = self.pending
            self.pending = None
            self._learn(seq, t)
        if self.last_seq < 0 or self.win is None:
            return None
        from_last, lo, hi = self.win
        due = (self.last_time if from_last else self.grid) + self.period
        return due + lo - self.lead(), due + hi

    def plan(self, s, now, max_sleep_ns):
        """(spin_ns, sleep_ns, timed) for a wait for frame s at time now.

        Spin up to spin_ns polling the head, then sleep on the futex up to
        sleep_ns (0: do not sleep; the caller comes back). timed: the sleep
        ends just before a predicted frame (after_timed measures it).
        """
        if self.predict:
            w = self.regular()
            if w is not None:
                start, end = w
                if now < start:
                    return 0, min(max_sleep_ns, start - now), True
                if now < end:
                    return end - now, 0, False
        if self.spin_ns and self.spun_for != s:
            self.spun_for = s
            return self.spin_ns, max_sleep_ns, False
        return 0, max_sleep_ns, False

    def after_timed(self, target, now):
        late = now - target
        if late < 0:
            return
        late = min(late, 1_000_000)
        if self.oversleep == 0:
            self.oversleep = late
        else:
            self.oversleep += int((late - self.oversleep) / 8)
