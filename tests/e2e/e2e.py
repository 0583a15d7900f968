#!/usr/bin/env python3
"""e2e.py - end-to-end tests of the `water` command over loopback.

Each scenario starts its own `water` processes and peers on 127.0.0.1 with
port 0 (the address is parsed from "listening on HOST:PORT" on water's
stderr), checks every byte it sends (SHA-256 of what comes back), bounds
every wait, and stops everything it started, also on failure (each water
process runs in its own session and is killed by process group).

    e2e.py --water BUILD/src/water --transports BUILD/transports \\
           --modules BUILD/tests/e2e/wasm [--asan] SCENARIO...
    e2e.py --list

Exit status: 0 pass, 1 fail, 77 skipped (a module is missing).
Python 3 standard library only.
"""

import argparse
import hashlib
import os
import random
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MiB = 1 << 20
SKIP = 77
CHUNK = 256 * 1024


class Fail(Exception):
    """A failed assertion; the message says what was expected and seen."""


class Skip(Exception):
    """A prerequisite (a built module) is missing."""


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(msg):
    print(msg, flush=True)


# ---- the test context: options, temporary files, cleanup ----------------------


class Ctx:
    def __init__(self, args):
        self.water = args.water
        self.transports = args.transports
        self.modules = args.modules
        self.asan = args.asan
        self.tmp = tempfile.mkdtemp(prefix="water-e2e-")
        self._cleanups = []

    def defer(self, fn):
        self._cleanups.append(fn)

    def close(self):
        while self._cleanups:
            fn = self._cleanups.pop()
            try:
                fn()
            except Exception as e:  # cleanup must go on
                log(f"cleanup: {e!r}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def size(self, release, asan):
        """Transfer size for this build (ASan+UBSan runs the engine slower)."""
        return asan if self.asan else release

    def slack(self, seconds):
        """Generous waits for the sanitizer build."""
        return seconds * 4 if self.asan else seconds

    def _find(self, folder, name):
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise Skip(f"{path} is not built")
        return path

    def transport(self, name):
        return self._find(self.transports, name)

    def module(self, name):
        return self._find(self.modules, name)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path


# ---- water processes ------------------------------------------------------------

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


class Water:
    """One `water` process; stderr is collected line by line."""

    def __init__(self, ctx, args, name=None):
        self.ctx = ctx
        self.name = name or args[0]
        self.lines = []
        self.cond = threading.Condition()
        self.eof = False
        self.proc = subprocess.Popen(
            [ctx.water] + args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        ctx.defer(self.kill)

    def _read(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def stderr(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern, timeout=10, count=1):
        """Waits until `count` stderr lines match the regex; returns the last match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [m for m in map(rx.search, self.lines) if m]
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    break
                self.cond.wait(left)
        raise Fail(
            f"{self.name}: no {count}x /{pattern}/ on stderr within {timeout} s "
            f"(exit status {self.proc.poll()}); stderr:\n{self.stderr()}"
        )

    def address(self, timeout=10):
        m = self.wait_for(r"listening on (\S+):(\d+)", timeout)
        return (m.group(1), int(m.group(2)))

    def alive(self):
        return self.proc.poll() is None

    def counts(self):
        """(open fds, threads) of the process, from /proc."""
        return (len(os.listdir(f"/proc/{self.pid}/fd")), len(os.listdir(f"/proc/{self.pid}/task")))

    def stop(self, sig=signal.SIGTERM, within=None):
        """Sends sig; the process must exit 0 within `within` seconds, print
        "stopped", and show no sanitizer report. Returns the seconds taken."""
        within = within if within is not None else self.ctx.slack(1.0)
        check(self.alive(), f"{self.name} exited early ({self.proc.poll()}):\n{self.stderr()}")
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(max(within, 5) * 3)
        except subprocess.TimeoutExpired:
            raise Fail(f"{self.name} did not exit on {signal.Signals(sig).name}:\n{self.stderr()}")
        took = time.monotonic() - t0
        self.reader.join(5)
        err = self.stderr()
        check(rc == 0, f"{self.name} exited with {rc} on {signal.Signals(sig).name}:\n{err}")
        check(took <= within,
              f"{self.name} took {took:.2f} s to exit on {signal.Signals(sig).name} "
              f"(limit {within} s):\n{err}")
        check("stopped" in err, f"{self.name}: no 'stopped' on stderr:\n{err}")
        check("did not stop in time" not in err,
              f"{self.name}: connections outlived the stop:\n{err}")
        self.check_clean()
        return took

    def check_clean(self):
        err = self.stderr()
        for mark in SANITIZER_MARKS:
            check(mark not in err, f"{self.name}: sanitizer report:\n{err}")

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.reader.join(5)


def run_water(ctx, args, timeout=20):
    """Runs water to completion: (exit status, stderr)."""
    try:
        r = subprocess.run([ctx.water] + args, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        raise Fail(f"water {' '.join(args)} did not exit within {timeout} s")
    return r.returncode, r.stderr.decode("utf-8", "replace")


def serve(ctx, cmd, transport, listen_on, target=None, extra=(), name=None):
    """Starts `water CMD` and returns (process, (host, port))."""
    args = [cmd, "-t", transport, "--listen", listen_on]
    if target:
        args += ["--remote" if cmd == "dial" else "--forward", "%s:%d" % target]
    w = Water(ctx, args + list(extra), name or cmd)
    return w, w.address(ctx.slack(10))


# ---- peers: echo server, recording proxy ----------------------------------------


def rst_close(sock):
    """Closes with SO_LINGER 0: the peer gets a RST."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class EchoServer(threading.Thread):
    """Echoes every connection. A connection whose first byte is 'R' is
    answered with a RST instead. `sock` may be a bound socket to listen on."""

    def __init__(self, ctx, sock=None):
        super().__init__(daemon=True)
        self.ls = sock or socket.socket()
        if sock is None:
            self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1024)
        self.ls.setblocking(False)
        self.addr = self.ls.getsockname()
        self.accepted = 0
        self.resets = 0
        self.sel = selectors.DefaultSelector()
        self.wake_r, self.wake_w = socket.socketpair()
        self.state = {}
        self.start()
        ctx.defer(self.stop)

    def run(self):
        self.sel.register(self.ls, selectors.EVENT_READ, "accept")
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        while True:
            for key, ev in self.sel.select(1.0):
                if key.data == "wake":
                    return self._close_all()
                if key.data == "accept":
                    self._accept()
                else:
                    self._serve(key.fileobj, ev)

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except (BlockingIOError, InterruptedError):
                return
            c.setblocking(False)
            self.accepted += 1
            self.state[c] = {"first": True, "pending": None}
            self.sel.register(c, selectors.EVENT_READ, "conn")

    def _drop(self, c, rst=False):
        self.sel.unregister(c)
        del self.state[c]
        if rst:
            rst_close(c)
        else:
            c.close()

    def _serve(self, c, ev):
        st = self.state[c]
        if st["pending"] is None:
            try:
                data = c.recv(CHUNK)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return self._drop(c)
            if not data:
                return self._drop(c)
            if st["first"] and data[:1] == b"R":
                self.resets += 1
                return self._drop(c, rst=True)
            st["first"] = False
            st["pending"] = memoryview(data)
        try:
            n = c.send(st["pending"])
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError:
            return self._drop(c)
        rest = st["pending"][n:]
        st["pending"] = rest if len(rest) else None
        self.sel.modify(c, selectors.EVENT_WRITE if len(rest) else selectors.EVENT_READ, "conn")

    def _close_all(self):
        for c in list(self.state):
            c.close()
        self.ls.close()

    def stop(self):
        if self.is_alive():
            self.wake_w.send(b"x")
            self.join(5)
        self.wake_w.close()
        self.wake_r.close()


class RecordingProxy(threading.Thread):
    """A TCP proxy for one connection at a time that keeps the first
    `limit` bytes of each direction: what water puts on the wire."""

    def __init__(self, ctx, target, limit=MiB):
        super().__init__(daemon=True)
        self.target = target
        self.limit = limit
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(16)
        self.ls.settimeout(0.5)
        self.addr = self.ls.getsockname()
        self.up = bytearray()    # client -> target
        self.down = bytearray()  # target -> client
        self.totals = [0, 0]
        self.stopping = False
        self.socks = []
        self.threads = []
        self.start()
        ctx.defer(self.stop)

    def run(self):
        while not self.stopping:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(None)
            try:
                s = socket.create_connection(self.target, timeout=10)
                s.settimeout(None)
            except OSError:
                c.close()
                continue
            self.socks += [c, s]
            for src, dst, rec, i in ((c, s, self.up, 0), (s, c, self.down, 1)):
                t = threading.Thread(target=self._pipe, args=(src, dst, rec, i), daemon=True)
                t.start()
                self.threads.append(t)

    def _pipe(self, src, dst, rec, i):
        try:
            while True:
                data = src.recv(CHUNK)
                if not data:
                    dst.shutdown(socket.SHUT_WR)
                    return
                if len(rec) < self.limit:
                    rec += data[: self.limit - len(rec)]
                self.totals[i] += len(data)
                dst.sendall(data)
        except OSError:
            pass

    def stop(self):
        self.stopping = True
        for s in self.socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.join(5)
        for t in self.threads:
            t.join(5)
        self.ls.close()


# ---- traffic ---------------------------------------------------------------------


def payload(size, seed):
    """size random bytes starting with 'G' (a first byte the test modules
    and the echo server treat as ordinary)."""
    data = bytearray(random.Random(seed).randbytes(size))
    if size:
        data[0] = ord("G")
    return bytes(data)


class Flow:
    def __init__(self, sock, data):
        self.sock = sock
        self.data = memoryview(data)
        self.digest = hashlib.sha256(data).digest()
        self.h = hashlib.sha256()
        self.sent = 0
        self.recvd = 0
        self.closed = None  # why the connection ended early, if it did
        self.done = False


def connect(addr, timeout=10):
    return socket.create_connection(addr, timeout=timeout)


def exchange(addr, payloads, timeout, socks=None):
    """Sends each payload on its own connection to addr (all at once) and
    reads as many bytes back. Returns the flows; raises Fail unless every
    connection got back exactly its bytes (by SHA-256)."""
    flows = run_flows(addr, payloads, timeout, socks)
    bad = [f for f in flows if not f.done or f.h.digest() != f.digest]
    if bad:
        f = bad[0]
        why = f.closed or ("sha256 differs" if f.done else "not finished")
        raise Fail(f"{len(bad)} of {len(flows)} connections to {addr} failed; first: "
                   f"sent {f.sent}, received {f.recvd} of {len(f.data)} bytes: {why}")
    return flows


def run_flows(addr, payloads, timeout, socks=None):
    """Like exchange() without the verdict: connections may end early."""
    socks = socks or [connect(addr) for _ in payloads]
    flows = [Flow(s, p) for s, p in zip(socks, payloads)]
    sel = selectors.DefaultSelector()
    try:
        for f in flows:
            f.sock.setblocking(False)
            sel.register(f.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, f)
        live = len(flows)
        deadline = time.monotonic() + timeout
        while live:
            left = deadline - time.monotonic()
            if left <= 0:
                f = next(f for f in flows if not f.done and not f.closed)
                raise Fail(f"traffic to {addr} timed out after {timeout} s: {live} of "
                           f"{len(flows)} connections unfinished; one sent {f.sent} and "
                           f"received {f.recvd} of {len(f.data)} bytes")
            for key, ev in sel.select(min(left, 1.0)):
                f = key.data
                if ev & selectors.EVENT_WRITE and f.sent < len(f.data):
                    try:
                        f.sent += f.sock.send(f.data[f.sent : f.sent + CHUNK])
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError as e:
                        f.closed = f"send: {e}"
                    if f.sent == len(f.data) and not f.closed:
                        sel.modify(f.sock, selectors.EVENT_READ, f)
                if ev & selectors.EVENT_READ and not f.closed:
                    try:
                        data = f.sock.recv(CHUNK)
                        if not data:
                            f.closed = "closed by the peer (EOF)"
                        else:
                            f.h.update(data)
                            f.recvd += len(data)
                            if f.recvd == len(f.data):
                                f.done = True
                            elif f.recvd > len(f.data):
                                f.closed = f"{f.recvd - len(f.data)} bytes too many"
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError as e:
                        f.closed = f"recv: {e}"
                if f.done or f.closed:
                    sel.unregister(f.sock)
                    f.sock.close()
                    live -= 1
    finally:
        for f in flows:
            if f.sock.fileno() >= 0:
                f.sock.close()
        sel.close()
    return flows


def roundtrip(addr, size, timeout, seed=1, what=""):
    """One connection, `size` bytes there and back, checked; logs the rate."""
    t0 = time.monotonic()
    exchange(addr, [payload(size, seed)], timeout)
    took = time.monotonic() - t0
    log(f"  {what or addr}: {size / MiB:g} MiB echoed, sha256 ok, {took:.2f} s "
        f"({2 * size / MiB / max(took, 1e-6):.0f} MiB/s both ways)")
    return took


def half_close(addr, size, timeout, what):
    """Sends `size` bytes, shuts down the write side, and reads until EOF:
    the end of the stream must cross the chain both ways, after exactly
    the bytes sent."""
    data = payload(size, 21)
    s = connect(addr)
    s.settimeout(timeout)
    err = []

    def send():
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    h, n = hashlib.sha256(), 0
    try:
        while True:
            chunk = s.recv(CHUNK)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
    except OSError as e:
        raise Fail(f"{what}: half-close: {e} after {n} of {size} bytes")
    finally:
        sender.join(timeout)
        s.close()
    check(not err, f"{what}: half-close: send failed: {err}")
    check(n == size and h.digest() == hashlib.sha256(data).digest(),
          f"{what}: half-close: got {n} bytes before EOF, sent {size} (or sha256 differs)")
    log(f"  {what}: half-close: {size / MiB:g} MiB then EOF came back intact")


def expect_closed(sock, timeout):
    """Reads until the peer closes (EOF or reset) within timeout; returns
    the number of bytes read and how it ended."""
    sock.settimeout(0.2)
    n = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data = sock.recv(CHUNK)
        except socket.timeout:
            continue
        except OSError as e:
            sock.close()
            return n, f"reset ({e.strerror})"
        if not data:
            sock.close()
            return n, "EOF"
        n += len(data)
    sock.close()
    raise Fail(f"the connection was not closed within {timeout} s ({n} bytes read)")


def closed_port():
    """A port on 127.0.0.1 that refuses connections: a bound socket that does
    not listen (kept, so that nobody else takes the port). Returns it."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def same_bytes(a, b):
    return sum(x == y for x, y in zip(a, b))


# ---- scenarios ---------------------------------------------------------------------

SCENARIOS = {}


def scenario(fn):
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


@scenario
def plain_dial(ctx):
    """water dial (plain) to an echo server: 64 MiB, same SHA-256."""
    echo = EchoServer(ctx)
    w, addr = serve(ctx, "dial", ctx.transport("plain.wasm"), "127.0.0.1:0", echo.addr)
    roundtrip(addr, 64 * MiB, ctx.slack(120), what="dial plain -> echo")
    half_close(addr, 4 * MiB, ctx.slack(30), "dial plain -> echo")
    w.stop()


@scenario
def plain_relay(ctx):
    """water relay (plain): the module pairs the client with the forward
    connection; 64 MiB, same SHA-256."""
    echo = EchoServer(ctx)
    w, addr = serve(ctx, "relay", ctx.transport("plain.wasm"), "127.0.0.1:0", echo.addr)
    roundtrip(addr, 64 * MiB, ctx.slack(120), what="relay plain -> echo")
    check(echo.accepted == 1, f"the echo server saw {echo.accepted} connections, not 1")
    half_close(addr, 4 * MiB, ctx.slack(30), "relay plain -> echo")
    w.stop()


@scenario
def xor_wire(ctx):
    """water dial (xor) -> recording proxy -> water listen (xor) -> echo:
    the bytes come back intact and differ from the plaintext on the wire."""
    size = ctx.size(64 * MiB, 4 * MiB)
    xor = ctx.transport("xor.wasm")
    echo = EchoServer(ctx)
    lw, laddr = serve(ctx, "listen", xor, "127.0.0.1:0", echo.addr)
    proxy = RecordingProxy(ctx, laddr)
    dw, daddr = serve(ctx, "dial", xor, "127.0.0.1:0", proxy.addr)
    data = payload(size, 7)
    t0 = time.monotonic()
    exchange(daddr, [data], ctx.slack(180))
    log(f"  dial xor -> proxy -> listen xor -> echo: {size / MiB:g} MiB echoed, sha256 ok, "
        f"{time.monotonic() - t0:.2f} s")
    deadline = time.monotonic() + 5
    while proxy.totals != [size, size] and time.monotonic() < deadline:
        time.sleep(0.05)
    check(proxy.totals == [size, size],
          f"wire byte counts {proxy.totals}, expected {size} each way (xor keeps lengths)")
    n = min(MiB, size)
    for name, wire in (("dial -> listen", proxy.up), ("listen -> dial", proxy.down)):
        check(len(wire) == n, f"{name}: recorded {len(wire)} wire bytes, expected {n}")
        same = same_bytes(wire, data[:n])
        # Random plaintext under a keystream: ~1/256 of the positions agree.
        check(same < n // 64, f"{name}: {same} of the first {n} wire bytes equal the "
                              f"plaintext: the transport did not transform them")
        log(f"  wire {name}: {same} of the first {n} bytes equal the plaintext "
            f"(~{n // 256} expected by chance)")
    half_close(daddr, ctx.size(4 * MiB, MiB), ctx.slack(60), "dial xor -> listen xor")
    dw.stop()
    lw.stop()


@scenario
def concurrent(ctx):
    """200 concurrent connections of 1 MiB each through dial + listen
    (plain); afterwards both processes are back to their fd and thread
    counts."""
    nconn, size = 200, MiB
    plain = ctx.transport("plain.wasm")
    echo = EchoServer(ctx)
    lw, laddr = serve(ctx, "listen", plain, "127.0.0.1:0", echo.addr)
    dw, daddr = serve(ctx, "dial", plain, "127.0.0.1:0", laddr)
    base = {w.name: w.counts() for w in (dw, lw)}
    log(f"  before: (fds, threads) {base}")
    payloads = [payload(size, 1000 + i) for i in range(nconn)]
    # All connections open, and each carries its first byte through both
    # processes and back, before any ends: then both hold all of them at
    # once (a worker thread each).
    socks = [connect(daddr) for _ in range(nconn)]
    for s, p in zip(socks, payloads):
        s.sendall(p[:1])
    for i, (s, p) in enumerate(zip(socks, payloads)):
        s.settimeout(ctx.slack(30))
        first = s.recv(1)
        check(first == p[:1], f"connection {i}: first byte {first!r}, sent {p[:1]!r}")
    live = {w.name: w.counts()[1] for w in (dw, lw)}
    log(f"  all {nconn} connections carried a byte end to end; threads now {live}")
    for name, n in live.items():
        check(n > nconn, f"water {name}: {n} threads with {nconn} connections live: "
                         f"they are not served at the same time")
    peak = {dw.name: 0, lw.name: 0}
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            for w in (dw, lw):
                peak[w.name] = max(peak[w.name], w.counts()[1])
            sampling.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    try:
        exchange(daddr, [p[1:] for p in payloads], ctx.slack(180), socks)
    finally:
        sampling.set()
        sampler.join(5)
    log(f"  {nconn} x {size / MiB:g} MiB echoed through dial + listen, every sha256 ok, "
        f"{time.monotonic() - t0:.2f} s; peak threads {peak}")
    check(echo.accepted == nconn, f"the echo server saw {echo.accepted} connections")
    for w in (dw, lw):
        deadline = time.monotonic() + ctx.slack(10)
        now = w.counts()
        while now != base[w.name] and time.monotonic() < deadline:
            time.sleep(0.1)
            now = w.counts()
        check(now == base[w.name], f"water {w.name}: (fds, threads) {now} after the "
                                   f"connections ended, {base[w.name]} before")
    log(f"  after: (fds, threads) back to {base}")
    dw.stop()
    lw.stop()


def chain(ctx, dial_module, listen_module, size, what, dial_cmd="dial", dial_extra=(),
          dial_target=True, listen_extra=()):
    """client -> water DIAL_CMD (dial_module) -> water listen (listen_module)
    -> echo, `size` bytes checked. Returns the processes and the listener's
    address."""
    echo = EchoServer(ctx)
    lw, laddr = serve(ctx, "listen", listen_module, "127.0.0.1:0", echo.addr, listen_extra,
                      name=f"listen {os.path.basename(listen_module)}")
    dw, daddr = serve(ctx, dial_cmd, dial_module, "127.0.0.1:0",
                      laddr if dial_target else None, dial_extra,
                      name=f"{dial_cmd} {os.path.basename(dial_module)}")
    roundtrip(daddr, size, ctx.slack(120), seed=len(what), what=what)
    return dw, lw, laddr


def key_mismatch(ctx, module, laddr, config, what):
    """A dialer whose key differs from the listener's: the bytes come back
    complete but wrong, proving that the config reached the module."""
    w, addr = serve(ctx, "dial", module, "127.0.0.1:0", laddr, ["-c", config],
                    name="dial (other key)")
    f = run_flows(addr, [payload(64 * 1024, 8)], ctx.slack(30))[0]
    check(f.done and f.h.digest() != f.digest,
          f"{what}: with different keys the echo should come back complete but different "
          f"(received {f.recvd} bytes, {f.closed or 'same sha256' if f.done else 'unfinished'})")
    log(f"  {what}: a dialer with another key gets its {f.recvd} bytes back garbled (sha256 differs)")
    w.stop()


def relay_to_echo(ctx, module, size, what):
    echo = EchoServer(ctx)
    rw, raddr = serve(ctx, "relay", module, "127.0.0.1:0", echo.addr,
                      name=f"relay {os.path.basename(module)}")
    roundtrip(raddr, size, ctx.slack(120), seed=3, what=what)
    rw.stop()


@scenario
def roles_v1(ctx):
    """The SDK's xor as a v1 module in every role: dialer, listener, relay,
    fixed dialer (the module dials its config's dial_address through
    env.water_dial, allowed by --allow-dial; denied without it)."""
    size = ctx.size(8 * MiB, MiB)
    xor = ctx.transport("xor.wasm")
    # A key in a JSON config: /conf/watm.cfg (v1).
    key = ["-c", ctx.write("key.json", '{"key": "e2e v1 key"}')]
    dw, lw, laddr = chain(ctx, xor, xor, size, "v1 dialer -> v1 listener (keyed)",
                          dial_extra=key, listen_extra=key)
    dw.stop()
    key_mismatch(ctx, xor, laddr, ctx.write("other.json", '{"key": "e2e v1 kez"}'), "v1")
    lw.stop()
    # Relay: the accepted client is the plaintext side, the module wraps
    # toward --forward, which a listener unwraps.
    dw, lw, laddr = chain(ctx, xor, xor, size, "v1 relay -> v1 listener", dial_cmd="relay")
    dw.stop()
    cfg = ctx.write("fixed.json", '{"dial_address": "127.0.0.1:%d"}\n' % laddr[1])
    fw, faddr = serve(ctx, "dial", xor, "127.0.0.1:0", None,
                      ["-c", cfg, "--allow-dial", "127.0.0.1:*"], name="dial (fixed)")
    roundtrip(faddr, size, ctx.slack(120), seed=5, what="v1 fixed dialer -> v1 listener")
    fw.stop()
    # Without a matching --allow-dial the host denies the module's own dial.
    other_port = "127.0.0.1:%d" % (laddr[1] % 65535 + 1)
    for extra in ([], ["--allow-dial", "127.0.0.2:*", "--allow-dial", other_port]):
        nw, naddr = serve(ctx, "dial", xor, "127.0.0.1:0", None, ["-c", cfg] + extra,
                          name="dial (denied)")
        got, how = expect_closed(connect(naddr), ctx.slack(10))
        nw.wait_for(r"may not dial 127\.0\.0\.1:%d: not in the allow-list" % laddr[1])
        log(f"  fixed dialer, allow-list {extra[1::2] or 'empty'}: closed ({how}), "
            f"'{nw.wait_for('connection failed: .*').group(0)}'")
        nw.stop()
    lw.stop()


@scenario
def roles_v0(ctx):
    """The SDK's xor as a v0 module in every role (dialer, listener, relay),
    and v0 and v1 builds of it talking to each other."""
    size = ctx.size(8 * MiB, MiB)
    v0, v1 = ctx.transport("xor.v0.wasm"), ctx.transport("xor.wasm")
    out = _inspect(ctx, v0)
    check("WATM v0" in out and "dialer listener relay" in out,
          f"water inspect {v0}: expected a v0 module with dialer, listener and relay:\n{out}")
    # A raw key file (not JSON): through pull_config (v0).
    key = ["-c", ctx.write("key.txt", "e2e v0 key\n")]
    dw, lw, laddr = chain(ctx, v0, v0, size, "v0 dialer -> v0 listener (keyed)",
                          dial_extra=key, listen_extra=key)
    dw.stop()
    key_mismatch(ctx, v0, laddr, ctx.write("other.txt", "e2e v0 kez\n"), "v0")
    lw.stop()
    dw, lw, _ = chain(ctx, v0, v0, size, "v0 relay -> v0 listener", dial_cmd="relay")
    dw.stop()
    lw.stop()
    for w in chain(ctx, v0, v1, size, "v0 dialer -> v1 listener")[:2]:
        w.stop()
    for w in chain(ctx, v1, v0, size, "v1 dialer -> v0 listener")[:2]:
        w.stop()


def _inspect(ctx, path):
    r = subprocess.run([ctx.water, "inspect", path], capture_output=True, timeout=20)
    return r.stdout.decode("utf-8", "replace")


def synthetic(ctx, name, other, without_start):
    size = ctx.size(16 * MiB, 4 * MiB)
    mod, peer = ctx.module(name), ctx.module(other)
    out = _inspect(ctx, mod)
    check("WATM v0" in out and "dialer listener relay" in out,
          f"water inspect {name}: expected a v0 module with dialer, listener and relay:\n{out}")
    check(("_start" in out) == (without_start is not None),
          f"water inspect {name}: _start {'missing' if without_start else 'present'}:\n{out}")
    if without_start is not None:
        # `water exec --invoke` calls an export without running _start.
        r = subprocess.run([ctx.water, "exec", mod, "--invoke", "_water_init"],
                           capture_output=True, timeout=20)
        got = r.stdout.decode().strip()
        check(got == without_start, f"{name}: _water_init without _start returned {got!r}, "
                                    f"expected {without_start}")
        log(f"  {name}: _water_init without _start returns {got}: the host must run _start")
    for w in chain(ctx, mod, mod, size, f"{name} dialer -> {name} listener")[:2]:
        w.stop()
    for w in chain(ctx, mod, peer, size, f"{name} dialer -> {other} listener")[:2]:
        w.stop()
    relay_to_echo(ctx, mod, size, f"{name} relay -> echo")


@scenario
def tinygo_v0(ctx):
    """A TinyGo-shaped v0 module (WAT: _water_v0 function, _start that
    registers then proc_exit(0), -EPERM before _start, non-blocking fds,
    poll_oneoff) as dialer, listener and relay."""
    synthetic(ctx, "tinygo_v0.wasm", "rust_v0.wasm", without_start="-63")


@scenario
def rust_v0(ctx):
    """A Rust-shaped v0 module (WAT: _water_v0 i32 global, no _start,
    random_get) as dialer, listener and relay."""
    synthetic(ctx, "rust_v0.wasm", "tinygo_v0.wasm", without_start=None)


@scenario
def rust_std(ctx):
    """A real Rust build: tests/e2e/rust/watm_xor.rs (std only, rustc
    --target wasm32-wasi, cdylib, as v1 and v0) in every role, against the
    C SDK's xor on the wire. Both derive the same keystream, so a Rust
    dialer and a C listener (and the reverse) carry the data intact only if
    the config reached the Rust module (v1: std::fs::read of
    /conf/watm.cfg through the preopen; v0: pull_config); without a config
    both use the default key."""
    size = ctx.size(4 * MiB, MiB)
    r1, r0 = ctx.module("rust_xor_v1.wasm"), ctx.module("rust_xor_v0.wasm")
    c1, c0 = ctx.transport("xor.wasm"), ctx.transport("xor.v0.wasm")
    for mod, ver in ((r1, "v1"), (r0, "v0")):
        out = _inspect(ctx, mod)
        check(f"WATM {ver} transport" in out and "dialer listener relay" in out
              and not re.search(r"func +_start ", out) and "random_get" in out,
              f"water inspect {mod}: expected a Rust {ver} module (no _start, random_get) "
              f"with dialer, listener and relay:\n{out}")
    key = ["-c", ctx.write("key.txt", "e2e rust key\n")]
    for d, l, what in ((r1, c1, "Rust v1 dialer -> C v1 listener"),
                       (c1, r1, "C v1 dialer -> Rust v1 listener"),
                       (r0, c0, "Rust v0 dialer -> C v0 listener"),
                       (c0, r0, "C v0 dialer -> Rust v0 listener"),
                       (r0, r1, "Rust v0 dialer -> Rust v1 listener")):
        dw, lw, laddr = chain(ctx, d, l, size, what + " (keyed)", dial_extra=key,
                              listen_extra=key)
        dw.stop()
        if l in (r1, r0):
            key_mismatch(ctx, c1 if l == r1 else c0, laddr,
                         ctx.write("other.txt", "e2e rust kez\n"), "C dialer with another key -> " + what.split(" -> ")[1])
        lw.stop()
    for mod, peer, ver in ((r1, c1, "v1"), (r0, c0, "v0")):
        dw, lw, _ = chain(ctx, mod, peer, size, f"Rust {ver} relay -> C {ver} listener",
                          dial_cmd="relay", dial_extra=key, listen_extra=key)
        dw.stop()
        lw.stop()
        dw, lw, _ = chain(ctx, mod, peer, size,
                          f"Rust {ver} dialer -> C {ver} listener (no config: default key)")
        dw.stop()
        lw.stop()


# ---- failures ---------------------------------------------------------------------


def good_after(ctx, addr, what):
    roundtrip(addr, ctx.size(4 * MiB, MiB), ctx.slack(60), seed=11, what=f"after {what}: good")


@scenario
def fail_refused(ctx):
    """A refused dial: the client's connection is closed, stderr says
    "refused"; then the remote comes up and the same process serves."""
    port_sock = closed_port()
    ctx.defer(port_sock.close)
    target = port_sock.getsockname()
    w, addr = serve(ctx, "dial", ctx.transport("plain.wasm"), "127.0.0.1:0", target)
    got, how = expect_closed(connect(addr), ctx.slack(10))
    m = w.wait_for(r"connection failed: dial 127\.0\.0\.1:%d: Connection refused" % target[1])
    log(f"  refused dial: client closed ({how}, {got} bytes); '{m.group(0)}'")
    EchoServer(ctx, port_sock)  # now the remote listens
    good_after(ctx, addr, "a refused dial")
    w.stop()


@scenario
def fail_unknown_host(ctx):
    """An unknown host (nonexistent.invalid:80): each client's connection is
    closed with a message naming the host; the process keeps accepting and
    stops cleanly. (The same transport then dialing a good address is in
    e2e_api: a CLI process has one --remote.)"""
    w, addr = serve(ctx, "dial", ctx.transport("plain.wasm"), "127.0.0.1:0",
                    None, ["--remote", "nonexistent.invalid:80"])
    for i in (1, 2):
        got, how = expect_closed(connect(addr), ctx.slack(30))
        m = w.wait_for(r"connection failed: nonexistent\.invalid:80: unknown host", count=i,
                       timeout=ctx.slack(30))
        log(f"  unknown host #{i}: client closed ({how}); '{m.group(0)}'")
    check(w.alive(), "water dial died")
    w.stop()


@scenario
def fail_trap(ctx):
    """A module that traps (unreachable) mid-stream: that connection closes
    with a message naming the trap; the next connection works."""
    echo = EchoServer(ctx)
    w, addr = serve(ctx, "dial", ctx.module("faulty_v1.wasm"), "127.0.0.1:0", echo.addr)
    data = b"T" + payload(MiB, 2)[1:]
    flows = run_flows(addr, [data], ctx.slack(30))
    f = flows[0]
    check(f.closed and not f.done and f.recvd <= 65536,
          f"trap: expected the connection to close after <= 64 KiB, got {f.recvd} bytes "
          f"({f.closed or 'finished'})")
    m = w.wait_for(r"connection closed: module: watm_start_v1: unreachable")
    log(f"  trap: client got {f.recvd} bytes, then {f.closed}; '{m.group(0)}'")
    good_after(ctx, addr, "a trap")
    w.stop()


@scenario
def fail_spin(ctx):
    """A worker that never polls (an endless loop): other connections are
    served meanwhile; on SIGTERM the host interrupts it and exits 0 within
    ~2 s."""
    echo = EchoServer(ctx)
    w, addr = serve(ctx, "dial", ctx.module("faulty_v1.wasm"), "127.0.0.1:0", echo.addr)
    spinner = connect(addr)
    spinner.sendall(b"L" * 100)
    time.sleep(0.3)
    good_after(ctx, addr, "a spinning worker (still spinning)")
    spinner.close()
    took = w.stop(within=3.0 if ctx.asan else 2.0)
    m = w.wait_for(r"connection closed: module: watm_start_v1: interrupted")
    log(f"  SIGTERM with a spinning worker: exit 0 after {took:.2f} s; '{m.group(0)}'")


@scenario
def fail_spin_budget(ctx):
    """A worker that never polls, with --max-spin: the host ends that
    connection on its own (fuel exhausted, the limit named) while the
    process keeps serving; without a budget the worker would spin until
    shutdown."""
    echo = EchoServer(ctx)
    budget = 20_000_000
    w, addr = serve(ctx, "dial", ctx.module("faulty_v1.wasm"), "127.0.0.1:0", echo.addr,
                    extra=["--max-spin", str(budget)])
    t0 = time.monotonic()
    spinner = connect(addr)
    spinner.sendall(b"L" * 100)
    got, how = expect_closed(spinner, ctx.slack(20))
    took = time.monotonic() - t0
    m = w.wait_for(r"connection closed: module: watm_start_v1: fuel exhausted.* after %d loop "
                   r"iterations without a call to the host" % budget)
    log(f"  spinning worker with --max-spin {budget}: closed ({how}) after {took:.2f} s; "
        f"'{m.group(0)}'")
    good_after(ctx, addr, "a spinning worker ended by its budget")
    check(w.alive(), "water dial died")
    w.stop()


@scenario
def fail_reset(ctx):
    """Resets: the remote answers with a RST, then a client resets its own
    connection mid-stream. Each ends with a message and a closed
    connection; the next connection works."""
    echo = EchoServer(ctx)
    w, addr = serve(ctx, "dial", ctx.transport("plain.wasm"), "127.0.0.1:0", echo.addr)
    s = connect(addr)
    s.sendall(b"R" * 1000)
    got, how = expect_closed(s, ctx.slack(10))
    m = w.wait_for(r"connection closed: .*ECONNRESET")
    check(echo.resets == 1, f"the echo server sent {echo.resets} resets, expected 1")
    log(f"  remote reset: client closed ({how}); '{m.group(0)}'")
    good_after(ctx, addr, "a remote reset")
    s = connect(addr)
    s.sendall(payload(32 * 1024, 4))  # fits in the socket buffers
    time.sleep(0.2)
    rst_close(s)
    m = w.wait_for(r"connection closed: .*ECONNRESET", count=2, timeout=ctx.slack(10))
    log(f"  client reset: '{m.group(0)}'")
    good_after(ctx, addr, "a client reset")
    w.stop()


@scenario
def fail_bad_config(ctx):
    """A .json config with a syntax error: water refuses to start, naming
    the file and the line; a missing config file likewise."""
    bad = ctx.write("broken.json", '{\n  "key": "abc",\n  "dial_address": \n}\n')
    xor = ctx.transport("xor.wasm")
    for cmd, target in (("dial", "--remote"), ("listen", "--forward"), ("relay", "--forward")):
        rc, err = run_water(ctx, [cmd, "-t", xor, "-c", bad, "--listen", "127.0.0.1:0",
                                  target, "127.0.0.1:9"])
        check(rc != 0, f"water {cmd} accepted a broken config (exit 0):\n{err}")
        check(bad in err and "does not parse as JSON" in err and "line 4" in err,
              f"water {cmd}: the message should name {bad}, the problem and line 4:\n{err}")
        check("listening on" not in err, f"water {cmd} started listening:\n{err}")
    log(f"  broken JSON: exit {rc}, '{err.strip()}'")
    missing = os.path.join(ctx.tmp, "missing.json")
    rc, err = run_water(ctx, ["dial", "-t", xor, "-c", missing, "--listen", "127.0.0.1:0",
                              "--remote", "127.0.0.1:9"])
    check(rc != 0 and missing in err and "No such file" in err,
          f"missing config: exit {rc}:\n{err}")
    log(f"  missing config: exit {rc}, '{err.strip()}'")


@scenario
def fail_bad_wasm(ctx):
    """Truncated, garbage, empty and non-transport modules, and a missing
    file: water refuses each at start, naming the file and the problem."""
    good = open(ctx.transport("plain.wasm"), "rb").read()
    cases = [
        ("truncated-half.wasm", good[: len(good) // 2], r"out of bounds|unexpected end"),
        ("truncated-mid-header.wasm", good[:6], r"unexpected end"),
        ("truncated-last-byte.wasm", good[:-1], r"out of bounds|unexpected end"),
        ("empty.wasm", b"", r"unexpected end|empty"),
        ("garbage.wasm", bytes(random.Random(9).randbytes(4096)), r"magic"),
        ("not-transport.wasm", open(ctx.module("not_transport.wasm"), "rb").read(),
         r"not a WATER transport"),
    ]
    for name, data, want in cases:
        path = ctx.write(name, data)
        rc, err = run_water(ctx, ["dial", "-t", path, "--listen", "127.0.0.1:0",
                                  "--remote", "127.0.0.1:9"])
        check(rc != 0, f"water dial accepted {name} (exit 0):\n{err}")
        check(path in err and re.search(want, err),
              f"{name}: the message should name {path} and match /{want}/:\n{err}")
        check("listening on" not in err, f"{name}: water started listening:\n{err}")
        log(f"  {name}: exit {rc}, '{err.strip()}'")
    missing = os.path.join(ctx.tmp, "missing.wasm")
    rc, err = run_water(ctx, ["dial", "-t", missing, "--listen", "127.0.0.1:0",
                              "--remote", "127.0.0.1:9"])
    check(rc != 0 and missing in err and "No such file" in err, f"missing module: {err}")
    log(f"  missing.wasm: exit {rc}, '{err.strip()}'")


@scenario
def signals(ctx):
    """water dial, listen and relay exit 0 within a second of SIGINT or
    SIGTERM, with a connection open; the client sees it closed."""
    plain = ctx.transport("plain.wasm")
    echo = EchoServer(ctx)
    for cmd in ("dial", "listen", "relay"):
        for sig in (signal.SIGINT, signal.SIGTERM):
            w, addr = serve(ctx, cmd, plain, "127.0.0.1:0", echo.addr)
            s = connect(addr)
            s.sendall(b"G" + b"x" * 9999)
            s.settimeout(ctx.slack(10))
            got = 0
            while got < 10000:
                data = s.recv(CHUNK)
                check(data, f"{cmd}: the connection closed after {got} bytes")
                got += len(data)
            took = w.stop(sig, within=1.0)
            n, how = expect_closed(s, 5)
            log(f"  water {cmd}: {signal.Signals(sig).name} -> exit 0 in {took:.3f} s, "
                f"open client closed ({how})")


# ---- main ---------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--water", help="the water executable")
    ap.add_argument("--transports", help="folder of the SDK transports (NAME.wasm, NAME.v0.wasm)")
    ap.add_argument("--modules", help="folder of this suite's WAT modules")
    ap.add_argument("--asan", action="store_true", help="sanitizer build: smaller transfers")
    ap.add_argument("--timeout", type=float, default=0,
                    help="give up (and clean up) after this many seconds")
    ap.add_argument("--list", action="store_true", help="list the scenarios")
    ap.add_argument("scenario", nargs="*")
    args = ap.parse_args()
    if args.list:
        for name, fn in SCENARIOS.items():
            print(f"{name}: {' '.join(fn.__doc__.split())}")
        return 0
    unknown = [s for s in args.scenario if s not in SCENARIOS]
    if unknown or not args.scenario or not (args.water and args.transports and args.modules):
        ap.error(f"unknown scenario {unknown}" if unknown else
                 "need --water, --transports, --modules and a scenario (--list)")

    def on_signal(sig, frame):
        raise Fail(f"interrupted by {signal.Signals(sig).name} (watchdog or test runner)")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_signal)
    if args.timeout:
        signal.alarm(int(args.timeout))
    rc = 0
    for name in args.scenario:
        ctx = Ctx(args)
        t0 = time.monotonic()
        log(f"== {name}: {' '.join(SCENARIOS[name].__doc__.split())}")
        try:
            SCENARIOS[name](ctx)
            log(f"== {name}: PASS ({time.monotonic() - t0:.1f} s)")
        except Skip as e:
            log(f"== {name}: SKIP: {e}")
            rc = rc or SKIP
        except Fail as e:
            log(f"== {name}: FAIL ({time.monotonic() - t0:.1f} s): {e}")
            rc = 1
        finally:
            ctx.close()
    signal.alarm(0)
    return rc


if __name__ == "__main__":
    sys.exit(main())
