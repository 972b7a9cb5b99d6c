"""The wire to loopviz: binary record blocks and text lines on the socket, and loop time."""
import json
import os
import struct
import threading
import time


# ----------------------------------------------------------------------------------------------
# The wire. Records go out as binary blocks (`B count`, then count records of four little-endian
# int64: monotonic time, kind | state << 8 | detail << 16, subject | other << 32, value; loopviz's
# TraceStreamBlocks.swift reads them, taking loop time as monotonic time less the base that the
# last `T base` line gave): formatting a text line cost the loop more than the step it described. The loop thread only extends `_ints` (one C call: atomic under the GIL); `_seal`
# turns what is there into a block whenever a text line must follow in order (a name, a `P` line)
# and at each flush. The loop thread flushes between iterations; a thread flushes for a loop
# stuck in a long step, so the viewer sees the stall live.

_KINDS = ("taskSpawned", "taskReady", "taskResumed", "taskSuspended", "taskDone", "awaitNext", "relayQueued",
          "output", "runFinished", "timerScheduled", "timerFired", "ioReady", "ioWritten", "callbackStarted",
          "callbackFinished", "eventSet", "primitiveAcquired", "primitiveReleased", "queueSize",
          "switched")  # not a record kind: a yield and the next step's start in one (TraceStreamBlocks.swift)
_STATES = ("unknown", "ready", "running", "sleeping", "waiting", "awaitingChildren", "yielded", "done", "waitingIO")
_KIND = {kind: code for code, kind in enumerate(_KINDS)}
_STATE = {state: code for code, state in enumerate(_STATES)}
_RESUMED = _KIND["taskResumed"] | _STATE["running"] << 8     # the hot path's two records
_YIELDED = _KIND["taskSuspended"] | _STATE["ready"] << 8
_SWITCHED = _KIND["switched"]                                # subject | next << 32

_ints = []
_put = _ints.extend
_chunks = []                # bytes in stream order (with `_write_lock` held)
_FLUSH_INTS = 4 * 4096
_BLOCK_INTS = 4 * 8192      # 256 KiB: a block, as loopviz reads it
_fd = -1
_names = 1                  # the next name id (0 is loopviz's built-in "nobody")
_records = 0                # records sealed into blocks so far

# Loop time is monotonic time shifted by `_shift` ns: + the time spent paused (the clock stands
# still), - the idle waits skipped while stepping (time jumps). A record's time is loop time
# since `_origin` (the first loop's start): `_mono() - _base`, `_base` = `_shift + _origin`.
# Records carry `_mono()` and loopviz subtracts `_base`, sent in a `T` line each time it changes.
_mono = time.monotonic_ns
_shift = 0
_origin = _mono()
_base = _origin


def _now():
    return _mono() - _base


def _move_clock(shift_by):
    """Pauses add to the shift (time stood still), jumps take from it (time ran ahead)."""
    global _shift, _base
    _shift += shift_by
    _base = _shift + _origin
    _text("T %d\n" % _base)


def _start_clock():
    """Loop time 0 is when the first loop starts (not when Python started): what came before
    (imports, module-level prints) collapses onto it. After records were written, the origin
    stays: time never goes back."""
    global _origin, _base
    if _records == 0 and not _ints:
        _origin = _mono() - _shift
        _base = _shift + _origin
        _text("T %d\n" % _base)


def _deadline(when):
    """A loop.time() moment (seconds) as record time (ns since the origin): loop time is already
    less the shift. Clamped into int64 (`sleep(1e10)`, an infinite timeout)."""
    try:
        return max(-_FAR, min(int(when * 1e9) - _origin, _FAR))
    except (OverflowError, ValueError):
        return _FAR


_FAR = 1 << 62


def _name(kind, text):
    """A new name's id, with its N line. The id is taken with the line's place in the stream
    (under the lock): a thread that prints meanwhile cannot declare a later id first."""
    global _names
    tail = " %s %s\n" % (kind, json.dumps(text, ensure_ascii=False))
    with _write_lock:
        eid = _names
        _names += 1
        _seal()
        _chunks.append(("N %d%s" % (eid, tail)).encode("utf-8", "replace"))
    return eid


def _record(kind, subject, other=0, value=0, detail=0, state="unknown"):
    _put((_mono(), _KIND[kind] | _STATE[state] << 8 | detail << 16, subject | other << 32, value))
    if len(_ints) > _FLUSH_INTS:
        _flush()


def _text(line):
    """A text line, after every record so far."""
    with _write_lock:
        _seal()
        _chunks.append(line.encode("utf-8", "replace"))


def _seal():
    """With `_write_lock` held: the records so far become a block. Only the loop thread extends
    `_ints`, by whole records; what it adds while the writer thread seals stays for the next block."""
    global _records
    remaining = len(_ints)
    while remaining:
        # At most _BLOCK_INTS at a time: loopviz reads a block whole (and refuses huge ones).
        count = min(remaining, _BLOCK_INTS)
        remaining -= count
        # (struct converts an int in half the time array.array takes: it skips PyArg_Parse.)
        block = struct.pack("<%dq" % count, *_ints[:count])
        del _ints[:count]
        _chunks.append(b"B %d\n" % (count // 4))
        _chunks.append(block)
        _records += count // 4


def _flush():
    """Writes what is queued. The loop thread does it itself between loop iterations (no thread
    handoff on the hot path)."""
    with _write_lock:
        _seal()
        _write_out()


def _write_out():
    """With `_write_lock` held: every sealed chunk, onto the socket."""
    global _last_write
    _last_write = time.monotonic()
    if not _chunks:
        return
    data = b"".join(_chunks)
    _chunks.clear()
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(_fd, view):]
    except OSError:
        os._exit(1)  # loopviz is gone: so is the program


_finished = False           # the end line is written: loopviz may hang up
_write_lock = threading.Lock()
_last_write = 0.0


def _writer():
    """Writes for a loop thread that is stuck in a long step, so the viewer sees the stall live."""
    while True:
        time.sleep(0.05)
        if (_ints or _chunks) and time.monotonic() - _last_write > 0.05 and _write_lock.acquire(blocking=False):
            try:
                _seal()
                _write_out()
            finally:
                _write_lock.release()

