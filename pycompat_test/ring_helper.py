"""Python side of the frame ring tests (pycompat_test/ring_test.go).

Uses the sharedarray_ring module of python/ (on PYTHONPATH) over the real
SharedArray of the environment it runs in. Frames are uint64 words
pattern(seq, j) = seq*A + j*B mod 2**64, as framePattern in ring_test.go:
any mix of two frames fails the check.

  ring_helper.py read NAME COUNT MODE   MODE: copy | inplace | latest
      open a reader, print "ready", read until frame COUNT-1 is passed or 3
      consecutive 1 s timeouts; print a JSON summary.
  ring_helper.py write NAME COUNT PAUSE_EVERY [create SLOTS WORDS]
      open (or create) the writer and publish COUNT frames, sleeping 1 ms
      every PAUSE_EVERY frames (0: never); print a JSON summary.
  ring_helper.py write-forever NAME
      publish frames until killed, one every 100 us; print "started" after
      the first 100.
  ring_helper.py timeout NAME SECONDS
      wait once for a frame; print the JSON outcome.
  ring_helper.py latest NAME HEAD
      open a reader, print "ready", wait until HEAD frames are published,
      print the latest frame's seq and whether its checksum holds.
  ring_helper.py open-reader NAME SECONDS [latest]
      open a reader, print "ready", wait once for a frame (next, or
      latest); print the error, if any.
  ring_helper.py big NAME
      open a reader of a ring of many slots and print how much memory that
      took; try to create a ring of more slots than Go opens.
  ring_helper.py misuse NAME
      close a reader in its read callback, use a closed writer, read under
      a corrupt head; print what each raised.
  ring_helper.py as-arm64 NAME
      pretend to run on arm64: open_reader, open_writer and create must refuse.
  ring_helper.py open-writer NAME
      try to become the writer; print whether the ring was busy.
  ring_helper.py attach NAME
      SharedArray.attach and print the shape and dtype as JSON.
  ring_helper.py stat NAME
      print sr.stat(NAME) as JSON, with the seconds it took.
  ring_helper.py zerod NAME COUNT
      write COUNT 0-d frames (frame_shape ()), alternately through next()
      and write(); print a JSON summary.
  ring_helper.py bad-write NAME
      write() frames of the wrong dtype and shape: each must raise before
      the ring changes; print what each raised and whether the ring stayed.
  ring_helper.py lockf NAME
      take fcntl.lockf(fd, LOCK_SH) on the ring file (a whole-file read
      lock), print "ready", hold it until killed.
  ring_helper.py churn NAME STEPS
      open 8 readers, then close and open them at random for STEPS steps,
      comparing stat()'s reader count with the truth after each; also
      open r1, r2, close r1, open r3 (2 readers). Print the mismatches.
  ring_helper.py replaced NAME OTHER
      open_writer(NAME) while another "process" renames OTHER over NAME
      between the module's open and SharedArray's attach; create(NAME-c)
      while NAME-c is replaced right after SharedArray.create. Print what
      each raised and whether the replacement survived untouched.
"""
import json
import os
import sys
import time

import numpy as np
import SharedArray as sa

import sharedarray_ring as sr

A = 0x9E3779B97F4A7C15
B = 0xBF58476D1CE4E5B9
M64 = (1 << 64) - 1


def expected(seq, words):
    idx = np.arange(words, dtype=np.uint64)
    return idx * np.uint64(B) + np.uint64((seq * A) & M64)


def read(name, count, mode):
    # RING_WAIT_MODE (ring_wait_test.go): copy-spin, copy-predict.
    wait = os.environ.get("RING_WAIT_MODE", "")
    kw = {"copy-spin": {"spin": 0.001}, "copy-predict": {"predict": True}}.get(wait, {})
    r = sr.open_reader(name, **kw)
    words = r.frame_bytes // 8
    print("ready", flush=True)
    got = torn = torn_seen = gaps = timeouts = overrun_errors = 0
    last = None
    lat = []
    generations = {r.generation}
    while r.pos < count:
        try:
            if mode == "inplace":
                seen = {}

                def check(slot, seq):
                    v = slot.reshape(-1)
                    half = words // 2
                    a = np.array_equal(v[:half], expected(seq, words)[:half])
                    time.sleep(0.0002)  # slow: let the writer lap us
                    b = np.array_equal(v[half:], expected(seq, words)[half:])
                    seen["torn"] = not (a and b)
                    return seq
                try:
                    seq = r.read(check, timeout=1.0)
                except sr.OverrunError:
                    overrun_errors += 1
                    torn_seen += seen.get("torn", False)
                    continue
                if seen["torn"]:
                    torn += 1
                f_overruns = None
            else:
                f = r.latest(timeout=1.0) if mode == "latest" else r.next(timeout=1.0)
                seq = f.seq
                lat.append(time.monotonic_ns() - f.time_ns)
                if not np.array_equal(f.reshape(-1), expected(seq, words)):
                    torn += 1
                f_overruns = f.overruns
        except TimeoutError:
            timeouts += 1
            if timeouts >= 3:
                break
            continue
        timeouts = 0
        generations.add(r.generation)
        gap = seq - (last + 1 if last is not None else 0)
        if mode == "copy" and f_overruns != gap and last is not None:
            print(json.dumps({"error": "frame %d: overruns %d, gap %d" % (seq, f_overruns, gap)}), flush=True)
            return 1
        gaps += gap
        last = seq
        got += 1
    lat.sort()
    print(json.dumps({
        "frames": got, "overruns": r.overruns, "gaps": gaps, "last": last, "torn_accepted": torn,
        "torn_seen_and_refused": torn_seen, "overrun_errors": overrun_errors,
        "generations": sorted(generations), "pos": r.pos,
        "p50_us": lat[len(lat) // 2] / 1e3 if lat else None,
    }), flush=True)
    r.close()
    return 0


def write(name, count, pause_every, create=None):
    if create:
        w = sr.create(name, int(create[0]), (int(create[1]),), dtype=np.uint64)
    else:
        w = sr.open_writer(name)
    words = w.frame_bytes // 8
    t0 = time.monotonic()
    for _ in range(count):
        slot = w.next()
        slot[...] = expected(w.seq, words).reshape(w.frame_shape)  # also a 0-d frame
        w.publish()
        if pause_every and w.seq % pause_every == 0:
            time.sleep(0.001)
    dt = time.monotonic() - t0
    print(json.dumps({"published": count, "head": w.head, "generation": w.generation,
                      "us_per_frame": dt / max(count, 1) * 1e6}), flush=True)
    w.close()
    return 0


def write_forever(name):
    w = sr.open_writer(name)
    words = w.frame_bytes // 8
    n = 0
    while True:
        slot = w.next()
        slot[: words // 2] = expected(w.seq, words)[: words // 2]
        time.sleep(0.00005)  # killed here, mid-frame, most of the time
        slot[:] = expected(w.seq, words)
        w.publish()
        n += 1
        if n == 100:
            print("started", flush=True)
        time.sleep(0.00005)


def timeout(name, seconds):
    r = sr.open_reader(name)
    t0 = time.monotonic()
    try:
        r.next(timeout=seconds)
        out = {"timed_out": False}
    except TimeoutError:
        out = {"timed_out": True}
    out["waited"] = time.monotonic() - t0
    out["futex"] = sr._get_futex().available
    print(json.dumps(out), flush=True)
    return 0


def main():
    op, name = sys.argv[1], sys.argv[2]
    if op == "read":
        return read(name, int(sys.argv[3]), sys.argv[4])
    if op == "write":
        extra = sys.argv[5:]
        return write(name, int(sys.argv[3]), int(sys.argv[4]), extra[1:] if extra[:1] == ["create"] else None)
    if op == "write-forever":
        return write_forever(name)
    if op == "timeout":
        return timeout(name, float(sys.argv[3]))
    if op == "latest":
        r = sr.open_reader(name)
        print("ready", flush=True)
        deadline = time.monotonic() + 10
        while r.head < int(sys.argv[3]) and time.monotonic() < deadline:
            time.sleep(0.001)
        f = r.latest(timeout=1.0)
        ok = np.array_equal(f.reshape(-1), expected(f.seq, r.frame_bytes // 8))
        print(json.dumps({"seq": f.seq, "ok": ok, "overruns": r.overruns}), flush=True)
        return 0
    if op == "big":
        # Opening a ring of many slots allocates nothing per slot; create
        # refuses more slots than the Go package opens.
        import resource
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r = sr.open_reader(name)
        out = {"slots": r.slots, "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss}
        r.close()
        try:
            sr.create(name + "-over", sr.MAX_SLOTS + 1, (1,), np.uint8)
            sa.delete(name + "-over")
            out["over"] = None
        except ValueError as e:
            out["over"] = str(e)
        print(json.dumps(out), flush=True)
        return 0
    if op == "read-raises":
        # A read callback that raises after the reader was lapped, then a
        # wrong out: overruns counted once, the raising frame consumed (as
        # in Go), the wrong out refused before any frame is taken.
        w = sr.create(name, slots=2, frame_shape=(4,), dtype=np.uint8)
        r = sr.open_reader(name)
        for k in range(5):
            w.write(np.full(4, k, np.uint8))
        out = {}
        try:
            r.read(lambda v, s: 1 // 0, timeout=1.0)
        except ZeroDivisionError:
            out["raised"] = True
        out["overruns_after_raise"] = r.overruns
        try:
            r.next(timeout=1.0, out=np.zeros(4))
        except Exception as e:
            out["bad_out"] = "%s: %s" % (type(e).__name__, e)
        f = r.next(timeout=1.0)
        out["next_seq"], out["next_overruns"], out["overruns"] = f.seq, f.overruns, r.overruns
        r.close()
        w.close()
        sa.delete(name)
        print(json.dumps(out), flush=True)
        return 0
    if op == "bad-create":
        # create with arguments Go refuses: a clear error naming the
        # argument, and nothing created (SharedArray.create segfaulted on
        # a negative or overflowing dimension, leaving a junk file).
        cases = {
            "negative": dict(slots=2, frame_shape=(-1,)),
            "overflow": dict(slots=2, frame_shape=(2**62, 4)),
            "float-slots": dict(slots=2.5, frame_shape=(2,)),
            "int-shape": dict(slots=2, frame_shape=5),
            "object": dict(slots=2, frame_shape=(2,), dtype=object),
            "empty": dict(slots=2, frame_shape=(0, 2**62)),
        }
        try:
            sr.create(name, **cases[sys.argv[3]])
            out = {"refused": None}
        except Exception as e:
            out = {"refused": "%s: %s" % (type(e).__name__, e)}
        out["exists"] = os.path.exists(sr._path(name))
        print(json.dumps(out), flush=True)
        return 0
    if op == "bad-timeout":
        # A timeout that is NaN or not a number: a clear error naming the
        # argument, at once (NaN waited forever: no deadline ever passed).
        import signal
        signal.alarm(10)  # a hang kills the helper: the Go test fails
        r = sr.open_reader(name)
        out = {}
        for label, v in (("nan", float("nan")), ("str", "x"), ("list", [1.0])):
            for call in ("next", "latest", "read"):
                try:
                    if call == "read":
                        r.read(lambda v, s: s, timeout=v)
                    else:
                        getattr(r, call)(timeout=v)
                    out[label + "/" + call] = None
                except Exception as e:
                    out[label + "/" + call] = "%s: %s" % (type(e).__name__, e)
        print(json.dumps(out), flush=True)
        return 0
    if op == "misuse":
        # A reader closed by its own read callback, a closed writer used,
        # and a corrupt head far ahead: clear outcomes, never TypeError.
        out = {}
        w = sr.open_writer(name)
        r = sr.open_reader(name)
        w.write(np.zeros(w.frame_shape, w.dtype))
        try:
            out["close_in_read"] = r.read(lambda slot, s: (r.close(), s)[1], timeout=1.0)
        except Exception as e:
            out["close_in_read"] = type(e).__name__
        r = sr.open_reader(name)
        w.close()
        for what, fn in (("next", w.next), ("publish", w.publish)):
            try:
                fn()
                out[what] = None
            except Exception as e:
                out[what] = type(e).__name__
        w = sr.open_writer(name)
        w._head.value = 1 << 40
        try:
            r.next(timeout=1.0)
            out["head_ahead"] = None
        except Exception as e:
            out["head_ahead"] = type(e).__name__
        out["head_ahead_overruns"] = r.overruns
        # The writer stops before the head reaches 2^62 (readers refuse it).
        w._head.value = sr.MAX_SEQ - 2
        w.close()
        w = sr.open_writer(name)
        frame = np.zeros(w.frame_shape, w.dtype)
        w.write(frame)
        out["head_after_last"] = str(w.head)
        try:
            w.write(frame)
            out["exhausted"] = None
        except sr.RingError as e:
            out["exhausted"] = str(e)
        out["readable"] = str(sr.stat(name)["head"])
        w._head.value = 1
        print(json.dumps(out), flush=True)
        return 0
    if op == "open-reader":
        try:
            r = sr.open_reader(name)
        except sr.RingError as e:
            print("ready", flush=True)
            print(json.dumps({"result": {"error": type(e).__name__, "msg": str(e)}}), flush=True)
            return 0
        print("ready", flush=True)
        out = {"error": None}
        try:
            if sys.argv[4:] == ["latest"]:
                r.latest(timeout=float(sys.argv[3]))
            else:
                r.next(timeout=float(sys.argv[3]))
        except (sr.RingError, TimeoutError) as e:
            out = {"error": type(e).__name__, "msg": str(e)}
        r.close()
        print(json.dumps({"result": out}), flush=True)
        return 0
    if op == "as-arm64":
        import platform
        platform.machine = lambda: "aarch64"  # what the module sees on arm64
        out = {}
        for what, fn in (("reader", sr.open_reader), ("writer", sr.open_writer),
                         ("create", lambda n: sr.create(n + "-new", 2, (4,)))):
            try:
                fn(name)
                out[what] = None
            except sr.RingError as e:
                out[what] = "%s errno %d: %s" % (type(e).__name__, e.errno, e)
        print(json.dumps(out), flush=True)
        return 0
    if op == "open-writer":
        try:
            sr.open_writer(name).close()
            print(json.dumps({"busy": False}), flush=True)
        except sr.BusyError as e:
            print(json.dumps({"busy": True, "msg": str(e)}), flush=True)
        except sr.RingError as e:
            print(json.dumps({"busy": False, "raised": type(e).__name__, "errno": e.errno, "msg": str(e)}), flush=True)
        return 0
    if op == "attach":
        a = sa.attach(name)
        print(json.dumps({"shape": list(a.shape), "dtype": a.dtype.str}), flush=True)
        return 0
    if op == "stat":
        t0 = time.monotonic()
        st = sr.stat(name)
        st["seconds"] = time.monotonic() - t0
        st["dtype"] = str(st["dtype"])
        st["frame_shape"] = list(st["frame_shape"])
        print(json.dumps(st), flush=True)
        return 0
    if op == "zerod":
        w = sr.open_writer(name)
        n = int(sys.argv[3])
        shapes = set()
        for k in range(n):
            v = expected(w.seq, 1)[0]
            if k % 2 == 0:
                slot = w.next()
                shapes.add(str(slot.shape))
                slot[...] = v
                w.publish()
            else:
                w.write(np.asarray(v, dtype=w.dtype))
        print(json.dumps({"published": n, "head": w.head, "frame_shape": list(w.frame_shape),
                          "slot_shapes": sorted(shapes)}), flush=True)
        w.close()
        return 0
    if op == "bad-write":
        w = sr.open_writer(name)
        w.write(np.zeros(w.frame_shape, w.dtype))

        def state():
            return [w.head, w.seq, w._writing] + [w._seq(i).value for i in range(w.slots)]
        before = state()
        out = {}
        for what, frame in (("dtype", np.zeros(w.frame_shape, np.float32)),
                            ("python int", 7),
                            ("shape", np.zeros((3,) + tuple(w.frame_shape), w.dtype))):
            try:
                w.write(frame)
                out[what] = None
            except (TypeError, ValueError) as e:
                out[what] = type(e).__name__
        out["unchanged"] = state() == before
        w.write(np.ones(w.frame_shape, w.dtype))  # and the writer goes on
        out["head"] = w.head
        print(json.dumps(out), flush=True)
        w.close()
        return 0
    if op == "lockf":
        import fcntl
        fd = os.open(sr._path(name), os.O_RDONLY)
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        print("ready", flush=True)
        time.sleep(120)  # until the test kills it
        return 0
    if op == "replaced":
        other = sys.argv[3]
        out = {}
        attach = sr._sa.attach

        def racing_attach(n, *a, **k):
            os.rename(sr._path(other), sr._path(n))  # an atomic replace-by-rename
            return attach(n, *a, **k)
        sr._sa.attach = racing_attach
        try:
            sr.open_writer(name).close()
            out["open"] = None
        except sr.RingError as e:
            out["open"] = str(e)
        sr._sa.attach = attach
        create = sr._sa.create
        cname = name + "-c"

        def racing_create(n, *a, **k):
            arr = create(n, *a, **k)
            repl = create(cname + "-r", (5,), dtype=np.int16)
            repl[:] = 7
            del repl
            os.rename(sr._path(cname + "-r"), sr._path(n))
            return arr
        sr._sa.create = racing_create
        try:
            sr.create(cname, 2, (3,), np.uint8)
            out["create"] = None
        except sr.RingError as e:
            out["create"] = str(e)
        sr._sa.create = create
        kept = sa.attach(cname)
        out["replacement_intact"] = kept.shape == (5,) and bool((kept == 7).all())
        del kept
        sa.delete(cname)
        # Replaced after the control block is written, before the writer opens.
        writer = sr.Writer

        def racing_writer(n, *a, **k):
            os.rename(sr._path(other2), sr._path(n))
            return writer(n, *a, **k)
        other2 = name + "-o2"
        repl = create(other2, (5,), dtype=np.int16)
        repl[:] = 7
        del repl
        sr.Writer = racing_writer
        try:
            sr.create(cname, 2, (3,), np.uint8)
            out["create_writer"] = None
        except sr.RingError as e:
            out["create_writer"] = str(e)
        sr.Writer = writer
        kept = sa.attach(cname)
        out["replacement_intact_2"] = kept.shape == (5,) and bool((kept == 7).all())
        del kept
        sa.delete(cname)
        print(json.dumps(out), flush=True)
        return 0
    if op == "churn":
        import random
        rng = random.Random(16)
        bad = []
        r1, r2 = sr.open_reader(name), sr.open_reader(name)
        r1.close()
        r3 = sr.open_reader(name)
        if sr.stat(name)["readers"] != 2:
            bad.append("r1, r2, close r1, r3: %d readers" % sr.stat(name)["readers"])
        r2.close()
        r3.close()
        live = [sr.open_reader(name) for _ in range(8)]
        for step in range(int(sys.argv[3])):
            if live and (len(live) == 8 or rng.random() < 0.5):
                live.pop(rng.randrange(len(live))).close()
            else:
                live.append(sr.open_reader(name))
            got = sr.stat(name)["readers"]
            if got != len(live):
                bad.append("step %d: stat says %d, %d open" % (step, got, len(live)))
        print(json.dumps({"mismatches": bad, "open": len(live)}), flush=True)
        time.sleep(120)  # the readers stay open for the Go side to count, until killed
        return 0
    if op == "delete":
        sa.delete(name)
        print(json.dumps({"deleted": name}), flush=True)
        return 0
    raise SystemExit("unknown op " + op)


if __name__ == "__main__":
    sys.exit(main())
