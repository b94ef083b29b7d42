"""Eclipse iceoryx2 (PyPI iceoryx2) beside the ring, for ringbench.

    iox2bench.py sub NAME N MODE            MODE: blocking (listener) or busy (poll receive)
    iox2bench.py pub NAME N PATTERN MODE    publish N 64-byte samples, paced as pywriter.py
    iox2bench.py pubcost NAME N             send_copy + notify, no subscriber waiting

The subscriber prints "ready", then {"lat": [...], "cpu": s, "wall": s}:
now - the publisher's time.monotonic_ns() taken just before send_copy.
"""
import ctypes
import json
import os
import resource
import sys
import time

import iceoryx2 as iox2

# RINGBENCH_CPU (ringbench's pinned rows): run on that CPU only, as the C pair.
if os.environ.get("RINGBENCH_CPU"):
    os.sched_setaffinity(0, {int(os.environ["RINGBENCH_CPU"])})


class Frame(ctypes.Structure):
    _fields_ = [("words", ctypes.c_uint64 * 8)]  # 64 bytes; words[0] = publish time, words[1] = k


def gap_ns(pattern, k):
    if pattern == "periodic":
        return 1_000_000
    return (200 + (k * 7919) % 1601) * 1000


def cpu():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def services(name):
    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    sname = iox2.ServiceName.new("ringbench/" + name)
    pubsub = (node.service_builder(sname).publish_subscribe(Frame)
              .subscriber_max_buffer_size(8).open_or_create())
    event = node.service_builder(sname).event().open_or_create()
    return node, pubsub, event


def main():
    iox2.set_log_level(iox2.LogLevel.Error)
    role, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    node, pubsub, event = services(name)
    if role == "sub":
        mode = sys.argv[4]
        sub = pubsub.subscriber_builder().create()
        listener = event.listener_builder().create()
        timeout = iox2.Duration.from_secs(5)
        print("ready", flush=True)
        lat = []
        t0, c0 = time.monotonic(), cpu()
        deadline = time.monotonic() + 5 * n / 1000 + 10
        last = -1
        while last < n - 1 and time.monotonic() < deadline:
            if mode == "blocking":
                if not listener.timed_wait(timeout):
                    break
            s = sub.receive()
            while s is not None:
                words = s.payload().contents.words
                lat.append(time.monotonic_ns() - words[0])
                last = words[1]
                s.delete()
                s = sub.receive()
        wall, used = time.monotonic() - t0, cpu() - c0
        print(json.dumps({"lat": lat, "cpu": used, "wall": wall, "lost": n - len(lat)}), flush=True)
    elif role == "pub":
        pattern, mode = sys.argv[4], sys.argv[5]
        pub = pubsub.publisher_builder().create()
        notifier = event.notifier_builder().create()
        f = Frame()
        nxt = time.monotonic_ns()
        for k in range(n):
            nxt += gap_ns(pattern, k)
            d = nxt - time.monotonic_ns() - 200_000
            if d > 0:
                time.sleep(d / 1e9)
            while time.monotonic_ns() < nxt:
                pass
            f.words[1] = k
            f.words[0] = time.monotonic_ns()
            pub.send_copy(f)
            if mode == "blocking":
                notifier.notify()
        time.sleep(0.05)
    elif role == "pubcost":
        pub = pubsub.publisher_builder().create()
        notifier = event.notifier_builder().create()
        f = Frame()
        per = []
        for _ in range(9):
            t0 = time.perf_counter_ns()
            for _ in range(n):
                f.words[0] = time.monotonic_ns()
                pub.send_copy(f)
                notifier.notify()
            per.append((time.perf_counter_ns() - t0) / n)
        per.sort()
        print("%7.0f ns per sample (iceoryx2 %s)" % (per[4], "0.10.0"))


main()
