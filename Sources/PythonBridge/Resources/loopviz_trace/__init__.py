"""loopviz's window into a CPython asyncio program (this package: the program's side).

`loopviz python SCRIPT.py` writes this package to a private temporary folder and runs
`python3 -c BOOT SCRIPT.py ARGS...`; BOOT checks the version, imports this package and calls
main(). The program then runs as `python3 SCRIPT.py ARGS...` would, with its loop's scheduling
streamed to loopviz over the socket LOOPVIZ_FD names, in loopviz's live-stream format (the lines
of a recording, records as binary blocks, `P` lines in step mode; see wire.py):

    loopviz-trace 1 / M {...} / K kinds / S states / T base / N id kind "name" / B count + records / E n 0

What is observed, and where:
- every handle the loop runs (a program task's step through its own handle, core._TaskStep;
  the rest through `Handle._run`: a sleep's timer, a callback, a socket the selector found ready); asyncio's own plumbing runs hidden, on behalf of whoever
  scheduled it (so a gather's done-callback wakes the parent "by" the child that finished);
- who made a task ready (`call_soon`, as seen from the running step), and why: what the task
  waited on, read from its coroutine chain when its step ended (sleep, Event.wait, Lock.acquire,
  Queue.get, a stream's read, another task...);
- tasks created (their first `call_soon`), with the running task as parent, named as
  asyncio_trace.py names them (coroutine name, `#n` when one coroutine runs as several tasks);
- printed lines (sys.stdout / sys.stderr), attributed to the step that printed them.

Stepping: LOOPVIZ_STEP=1 starts paused. loopviz sends `pause`, `step`, `run` lines; before each
step the loop waits at the gate while paused, and the loop's clock stands still meanwhile (loop
time is monotonic time less the time spent paused, so timers keep their distance). While
stepping, an idle wait for the next timer is skipped: time jumps, as on loopviz's own loop.

Only asyncio's standard event loop is supported: another loop (uvloop) is reported and the
program stops.
"""
import asyncio
import asyncio.base_events as base_events
import asyncio.events as events
import asyncio.locks as locks
import asyncio.queues as queues
import asyncio.selector_events as selector_events
import json
import os
import runpy
import socket
import sys
import threading
import traceback

from . import core
from . import wire
from .core import _PAUSED, _RUN, _call_soon, _call_soon_public, _control, _run, _who
from .watch import _add_reader, _add_writer, _call_at, _process_events, _socket_close, _transport_init, _wrap_acquire, _wrap_event_set, _wrap_queue, _wrap_release, _wrap_transport_write
from .wire import _FLUSH_INTS, _KINDS, _STATES, _flush, _ints, _mono, _move_clock, _name, _record, _text, _writer

_loop_thread = None         # the thread that runs the loop (set when it starts)
_loop_seen = False         # a loop ran (else loopviz says none was seen)


def _set_running_loop(loop):
    global _loop_seen, _loop_thread
    if loop is not None:
        if not isinstance(loop, base_events.BaseEventLoop):
            sys.__stderr__.write(
                "loopviz python: this program runs %s.%s; loopviz shows only asyncio's standard "
                "event loop (remove the uvloop policy or loop_factory to watch it)\n"
                % (type(loop).__module__, type(loop).__name__))
            sys.__stderr__.flush()
            _finish(1, "error")
            os._exit(3)
        if not _loop_seen:
            wire._start_clock()
        _loop_seen = True
        _loop_thread = threading.get_ident()
        selector = getattr(loop, "_selector", None)
        if selector is not None and not getattr(selector, "_loopviz", False):
            _watch_idle(selector)
    return _original_set_running_loop(loop)


def _watch_idle(selector):
    """Flushes before the loop may sleep; while stepping, an idle wait for a timer is skipped."""
    original = selector.select

    def select(timeout=None):
        if timeout is None or timeout > 0:
            core._emit_yield()
            _flush()
            if core._mode != _RUN and timeout is not None:
                ready = original(min(timeout, 0.005))
                if ready:
                    return ready
                _move_clock(-int(timeout * 1e9))
                return ready
        return original(timeout)

    selector.select = select
    selector._loopviz = True


_original_set_running_loop = events._set_running_loop


class _Output:
    """sys.stdout / sys.stderr: each line becomes an output record of the step that printed it."""

    def __init__(self, detail, encoding):
        self.detail = detail
        self.encoding = encoding
        self.errors = "replace"
        self.partial = ""

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        text = self.partial + text
        *lines, self.partial = text.split("\n")
        for line in lines:
            self._emit(line)
        if len(self.partial) > 65536:
            self._emit(self.partial)
            self.partial = ""
        return len(text)

    def _emit(self, line):
        eid = _name("text", line)
        _record("output", _who(), 0, eid, self.detail)

    def flush(self):
        pass

    def close_partial(self):
        if self.partial:
            self._emit(self.partial)
            self.partial = ""

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        raise OSError("loopviz captures this stream; it has no file descriptor")

    def writelines(self, lines):
        for line in lines:
            self.write(line)


def _time(self):
    """loop.time(), which `_run_once` reads once per iteration: the moment to write a batch."""
    if len(_ints) > _FLUSH_INTS and threading.get_ident() == _loop_thread:
        core._emit_yield()   # (on the loop thread only: it races the hot path anywhere else)
        _flush()
    return (_mono() - wire._shift) / 1e9


def _install():
    events.Handle._run = _run
    base_events.BaseEventLoop._call_soon = _call_soon
    base_events.BaseEventLoop.call_soon = _call_soon_public
    base_events.BaseEventLoop.call_at = _call_at
    base_events.BaseEventLoop.time = _time
    selector_events.BaseSelectorEventLoop._process_events = _process_events
    selector_events.BaseSelectorEventLoop._add_reader = _add_reader
    selector_events.BaseSelectorEventLoop._add_writer = _add_writer
    selector_events._SelectorTransport.__init__ = _transport_init
    socket.socket.close = _socket_close
    selector_events._SelectorSocketTransport.write = _wrap_transport_write(selector_events._SelectorSocketTransport.write)
    events._set_running_loop = _set_running_loop
    asyncio._set_running_loop = _set_running_loop
    locks.Event.set = _wrap_event_set(locks.Event.set)
    for cls in (locks.Lock, locks.Semaphore):
        cls.acquire = _wrap_acquire(cls.acquire)
        cls.release = _wrap_release(cls.release)
    queues.Queue.put_nowait = _wrap_queue(queues.Queue.put_nowait)
    queues.Queue.get_nowait = _wrap_queue(queues.Queue.get_nowait)


def _finish(status, outcome):
    if wire._finished:
        return
    wire._finished = True
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, _Output):
            stream.close_partial()
    outcomes = {"ok": 0, "error": 1}
    core._emit_yield()
    _record("runFinished", 0, 0, 0 if _loop_seen else -1, outcomes.get(outcome, 1))
    _flush()
    _text("E %d 0\n" % wire._records)
    _flush()


def _print_program_error(error):
    """The traceback as `python3 SCRIPT.py` prints it: without this module's and runpy's frames."""
    tb = error.__traceback__
    while tb is not None and (os.path.dirname(tb.tb_frame.f_code.co_filename) == _PACKAGE_DIR
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")):
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def main():
    wire._fd = int(os.environ.pop("LOOPVIZ_FD"))
    os.set_inheritable(wire._fd, False)
    step = os.environ.pop("LOOPVIZ_STEP", "") == "1"
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    meta = {"scenario": os.path.basename(script), "clock": "real", "python": sys.version.split()[0]}
    _text("loopviz-trace 1\nM %s\nK %s\nS %s\nT %d\n" % (json.dumps(meta, separators=(",", ":")), " ".join(_KINDS), " ".join(_STATES),
                                                   wire._base))
    threading.Thread(target=_writer, name="loopviz-writer", daemon=True).start()
    threading.Thread(target=_control, name="loopviz-control", daemon=True).start()
    if step:
        core._mode = _PAUSED
    _install()
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout = _Output(0, encoding)
    sys.stderr = _Output(1, encoding)
    status, outcome = 0, "ok"
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit:
        code = exit.code
        if code is None:
            status = 0
        elif isinstance(code, int):
            status = code
        else:
            print(code, file=sys.stderr)
            status = 1
        outcome = "ok" if status == 0 else "error"
    except KeyboardInterrupt as error:
        _print_program_error(error)
        status, outcome = 130, "error"
    except BaseException as error:
        _print_program_error(error)
        status, outcome = 1, "error"
    _finish(status, outcome)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    return status
