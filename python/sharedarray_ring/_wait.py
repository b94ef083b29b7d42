"""How a reader waits: sleep (default), spin first, or predict the next frame.

The same policy as the Go reader's WithSpin and WithPredict (ring_wait.go
of the sharedarray Go module; docs/ring.md §3.5). Times are CLOCK_MONOTONIC
nanoseconds, the clock of Frame.time_ns (time.monotonic_ns()).
"""

import numbers

MIN_SAMPLES = 16
INIT_OVERSLEEP = 80_000   # ns assumed before a timed sleep was measured (Python wakes later than Go)
MIN_MARGIN = 20_000       # ns
MAX_PERIOD = 10_000_000_000
WINDOW_SHARE = 5          # the polling window is at most period / 5


class Waiter:
    """Wait policy of one reader: spin budget and period prediction."""

    __slots__ = ("spin_ns", "predict", "last_seq", "grid", "ref_seq", "ref_time",
                 "mid_seq", "mid_time", "period", "dev", "samples", "oversleep", "spun_for")

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
        self._reset(-1, 0)

    def _reset(self, seq, t):
        self.last_seq = seq
        self.grid = self.ref_time = self.mid_time = t
        self.ref_seq = self.mid_seq = seq
        self.period = self.dev = self.samples = 0

    def observe(self, seq, t):
        """Learn from frame seq, published at t (0: the writer sets no times).

        The period is measured over a long baseline (up to 1024 frames), the
        phase (grid: when the last frame was due) snaps to a frame that
        comes early and follows late ones by an eighth: scheduling delays
        only make frames late. As ring_wait.go.
        """
        if (t <= 0 or self.last_seq < 0 or seq <= self.last_seq or t <= self.ref_time
                or seq - self.last_seq > 1 << 20):
            self._reset(seq if t > 0 else -1, t)
            return
        gap = (t - self.ref_time) // (seq - self.ref_seq)
        if gap > MAX_PERIOD:
            self._reset(seq, t)
            return
        self.period = gap
        self.samples += 1
        due = self.grid + (seq - self.last_seq) * gap
        if self.samples > 1:
            self.dev += int((abs(t - due) - self.dev) / 8)
        if t < due:
            due = t
        else:
            due += (t - due) // 8
        self.last_seq, self.grid = seq, due
        if seq - self.ref_seq >= 1024:
            self.ref_seq, self.ref_time = self.mid_seq, self.mid_time
        if seq - self.mid_seq >= 512:
            self.mid_seq, self.mid_time = seq, due

    def regular(self):
        """The predicted time of the next frame, or None."""
        if (self.last_seq < 0 or self.samples < MIN_SAMPLES or self.period <= 0
                or self.dev * 4 > self.period):
            return None
        return self.grid + self.period

    def margins(self):
        over = self.oversleep or INIT_OVERSLEEP
        window = self.period // WINDOW_SHARE
        lead = min(MIN_MARGIN + over + 2 * self.dev, window * 2 // 3)
        return lead, window - lead

    def plan(self, s, now, max_sleep_ns):
        """(spin_ns, sleep_ns, timed) for a wait for frame s at time now.

        Spin up to spin_ns polling the head, then sleep on the futex up to
        sleep_ns (0: do not sleep; the caller comes back). timed: the sleep
        ends just before a predicted frame (after_timed measures it).
        """
        if self.predict:
            due = self.regular()
            if due is not None:
                lead, late = self.margins()
                if now < due - lead:
                    return 0, min(max_sleep_ns, due - lead - now), True
                if now < due + late:
                    return due + late - now, 0, False
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
