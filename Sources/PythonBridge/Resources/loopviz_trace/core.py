"""The hot path: each program task's steps (`_TaskStep`), who is running (the actor), what made
a task ready, every other handle run on behalf of whoever scheduled it; and loopviz's gate."""
import asyncio.base_events as base_events
import asyncio.events as events
import asyncio.format_helpers as format_helpers
import asyncio.futures as futures
import asyncio.tasks as tasks
import contextvars
import os
import sys
import threading
import time

from . import wire
from .waits import _CHILDREN, _EVENT, _IO, _PRIMITIVE, _SLEEP, _WAIT_FOR, _eid_of, _callback_name, _classify, _internal, _internal_callback, _sleep_handles, _socket_entity, _task_name
from .watch import _fd_number, _peer_writer
from .wire import _RESUMED, _SWITCHED, _YIELDED, _flush, _mono, _move_clock, _name, _now, _put, _record, _text

# ----------------------------------------------------------------------------------------------
# The gate: loopviz's pause / step / run.

_RUN, _PAUSED, _STEP = 0, 1, 2
_mode = _RUN
_mode_changed = threading.Condition()


def _control():
    """Reads loopviz's commands. The socket closing means loopviz is gone: so is the program."""
    global _mode
    pending = b""
    while True:
        try:
            data = os.read(wire._fd, 4096)
        except OSError:
            data = b""
        if not data:
            if wire._finished:
                return  # loopviz read the end line and hung up: the program is leaving anyway
            os._exit(1)
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            with _mode_changed:
                if line == b"pause":
                    _mode = _PAUSED
                elif line == b"step":
                    _mode = _STEP
                elif line == b"run":
                    _mode = _RUN
                _mode_changed.notify_all()


def _gate(kind, subject):
    """Before a step: waits while loopviz holds the loop (step mode), with the clock stopped."""
    global _mode
    if _mode == _RUN:
        return
    with _mode_changed:
        if _mode == _STEP:
            _mode = _PAUSED   # the granted step is this one; the next one waits
            return
        if _mode == _RUN:
            return
        _text("P %s %d %d\n" % (kind, subject, _now()))
        _flush()
        began = time.monotonic()
        while _mode == _PAUSED:
            _mode_changed.wait()
        _move_clock(int((time.monotonic() - began) * 1e9))
        if _mode == _STEP:
            _mode = _PAUSED
        else:
            _text("P -\n")


# ----------------------------------------------------------------------------------------------
# Who is running: the actor a record's "other" names (the setter, the releaser, the waker), the
# task a new task is the child of, and the socket (and its writer) behind an I/O step.


class _Task:
    __slots__ = ("eid", "task", "wait", "on", "via", "children", "left", "others", "cursor", "handle")

    def __init__(self, eid, task):
        self.eid = eid
        self.task = task
        self.wait = None      # what it waits on: a _WAIT_* kind, or None
        self.on = 0           # the entity: event, primitive, socket, awaited child
        self.via = None       # the object: the future, the gathering future, the timer handle
        self.children = None  # gather: the children it awaits, in order
        self.left = 0         # how many of them (program tasks) have not ended
        self.others = None    # the rest of them (futures, asyncio's tasks), not yet ended
        self.cursor = 0       # the first of them that may not have ended (the one it awaits)
        self.handle = None    # its step's handle (see _call_soon)



_actor = 0          # who a callback or plumbing step runs for (0: the loop); read through _who()
_actor_task = 0     # the task new tasks are children of then; read through _parent()
_actor_io = 0       # the socket of a running I/O step
_actor_waker = 0    # who caused that socket to be ready (the peer's writer), when known
_actor_timeout = False  # a wait_for timeout callback runs
_running = None     # the _Task whose step runs (it is then the actor: see _who)
_yielded = 0        # the task whose step just ended in a yield, not yet recorded (see _emit_yield)


def _who():
    """The actor: the running program task, or who a callback or plumbing step runs for."""
    return _running.eid if _running is not None else _actor


def _parent():
    """The task a task created now is the child of."""
    return _running.eid if _running is not None else _actor_task

_tasks = {}         # id(task) -> _Task, while the task lives
_hidden = {}        # id(task) -> (actor, actor_task) of asyncio's own tasks
_scheduled_by = {}  # hidden handle -> the actor state that scheduled it
_callbacks = {}     # handle -> callback entity (the program's own callbacks)
_io_handles = {}    # selector handle -> socket entity, readiness
_awaited_by = {}    # id(child) -> [(_Task, its children list)] awaiting it (gather, await task, wait_for)
_fd_owner = {}      # fd -> the task that had the loop watch it (new tasks an I/O step makes are its children)

_TaskTypes = tuple({t for t in (tasks.Task, getattr(tasks, "_PyTask", tasks.Task)) if t is not None})

# ----------------------------------------------------------------------------------------------
# The hooks.

_original_run = events.Handle._run
_original_call_soon = base_events.BaseEventLoop._call_soon
_original_call_soon_public = base_events.BaseEventLoop.call_soon
_new_object = object.__new__
_copy_context = contextvars.copy_context
_set_result_unless_cancelled = futures._set_result_unless_cancelled


def _new_task(task):
    if _internal(task):
        _hidden[id(task)] = (_who(), _parent())
        return None
    info = _Task(_name("task", _task_name(task)), task)
    _tasks[id(task)] = info
    _record("taskSpawned", info.eid, _parent(), 0, 0, "ready")
    _record("taskReady", info.eid, _parent(), 0, 0, "ready")
    return info


def _made_ready(info, waiter_cancelled):
    """A task's wake-up was scheduled: taskReady, with why and by whom."""
    wait = info.wait
    if waiter_cancelled:
        cause, other, via = 5, _who(), 0
    elif wait == _SLEEP:
        cause, other, via = 2, 0, 0
    elif wait == _EVENT:
        cause, other, via = 3, _who(), info.on
    elif wait == _PRIMITIVE:
        cause, other, via = 7, _who(), info.on
    elif wait == _WAIT_FOR and _actor_timeout:
        cause, other, via = 2, 0, 0
    elif wait in (_CHILDREN, _WAIT_FOR):
        cause, other, via = 4, _who(), 0
    elif wait == _IO:
        cause, other, via = 9, (_actor_waker if _actor_io else 0), info.on
    else:
        cause, other, via = 8, _who(), 0
    info.wait = None
    _record("taskReady", info.eid, other, via, cause, "ready")


# A task's own callbacks: its step (C: a `TaskStepMethWrapper`, learnt at its first sight) and
# its wake-up (C: task_wakeup; the Python Task's name-mangled methods).
_step_type = None
_STEP_NAMES = frozenset({"task_wakeup", "__step", "__wakeup", "_Task__step", "_Task__wakeup"})


def _is_task_callback(callback):
    global _step_type
    kind = type(callback)
    if kind.__name__ == "TaskStepMethWrapper":
        _step_type = kind
        return True
    return getattr(callback, "__name__", None) in _STEP_NAMES


def _call_soon_public(self, callback, *args, context=None, _checked=False):
    """`loop.call_soon`, one call shallower than asyncio's (no `_check_closed`, no `_call_soon`):
    every step of every task comes here. A program task's step or wake-up gets its `_TaskStep`
    handle (its own `_run`: the hot path, no lookups); other handles remember who scheduled them,
    so asyncio's plumbing runs on their behalf. Debug mode and a closed loop take asyncio's way."""
    if not _checked and (self._closed or self._debug):
        return _original_call_soon_public(self, callback, *args, context=context)
    owner = getattr(callback, "__self__", None)
    # Only a task's own step or wake-up: `call_soon(task.cancel)` is another handle, or it would
    # take the step handle's place in the ready queue.
    if owner is not None and (type(callback) is _step_type or _is_task_callback(callback)):
        # A yield reschedules the running task: no lookup for the commonest call.
        info = _running if _running is not None and _running.task is owner else _tasks.get(id(owner))
        if info is None and isinstance(owner, _TaskTypes) and id(owner) not in _hidden:
            info = _new_task(owner)
        if info is not None:
            # A task's wake-up; its own next step (a yield) is seen when its step ends.
            if info is not _running and info.wait is not None:
                waiter = info.via
                _made_ready(info, waiter is not None and waiter.done() and waiter.cancelled())
            # One handle per task, reused: a task has at most one step scheduled at a time (the
            # C Task's invariant), and nobody else holds its step handles. Handle.__init__'s
            # two calls and an allocation less on every switch.
            handle = info.handle
            if handle is None:
                handle = info.handle = _new_object(_TaskStep)
                handle._loop = self
                handle._repr = None
                handle._source_traceback = None
                handle._cancelled = False    # (nobody cancels it: the Task drops what call_soon returns)
                handle._info = info
            handle._context = _copy_context() if context is None else context
            handle._callback = callback
            handle._args = args
            if self._debug:
                handle._source_traceback = format_helpers.extract_stack(sys._getframe(1))
            self._ready.append(handle)
            return handle
    handle = _original_call_soon(self, callback, args, context)
    if owner is None or not isinstance(owner, _TaskTypes):
        _scheduled_by[handle] = (_who(), _parent(), _actor_io, _actor_waker, _actor_timeout)
    return handle


def _call_soon(self, callback, args, context):
    """`loop._call_soon`, the way in of call_soon_threadsafe and of debug mode's call_soon."""
    return _call_soon_public(self, callback, *args, context=context, _checked=True)


class _TaskStep(events.Handle):
    """The handle of a program task's step: the hot path of every switch."""
    __slots__ = ("_info",)

    def _run(self, _put=_put, _mono=_mono, _RESUMED=_RESUMED, _SWITCHED=_SWITCHED):
        # (Defaults bind the hot constants as locals: a global lookup less each.)
        global _running, _yielded
        info = self._info
        eid = info.eid
        if _mode:
            _emit_yield()
            _gate("slice", eid)
        if _yielded:
            # The task before yielded, and nothing happened since: one record for both.
            _put((_mono(), _SWITCHED, _yielded | eid << 32, 0))
            _yielded = 0
        else:
            _put((_mono(), _RESUMED, eid, 0))
        _running = info
        try:
            self._context.run(self._callback, *self._args)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            _callback_failed(self, exc)
        finally:
            _running = None
        task = info.task
        if task.done():
            _task_done(info, task)
        elif task._fut_waiter is None:
            # A yield (sleep(0)): it scheduled its own next step, ready at once. Said when the
            # next handle starts (with its record, when it is a task's step: see _emit_yield).
            _yielded = eid
        else:
            other, value, detail, state = _classify(info, task._fut_waiter)
            _record("taskSuspended", eid, other, value, detail, state)


def _callback_failed(handle, exc):
    """What asyncio's Handle._run does when a callback raises."""
    source = format_helpers._format_callback_source(handle._callback, handle._args)
    context = {"message": f"Exception in callback {source}", "exception": exc, "handle": handle}
    if handle._source_traceback:
        context["source_traceback"] = handle._source_traceback
    handle._loop.call_exception_handler(context)


def _run(handle):
    callback = handle._callback
    return _run_other(handle, callback, getattr(callback, "__self__", None))


def _emit_yield():
    """On the loop thread, before anything else is recorded there: the pending yield's record.
    (Records made on other threads meanwhile go before it; loopviz keeps a block record that is
    behind the one before it at that one's time.)"""
    global _yielded
    if _yielded:
        _put((_mono(), _YIELDED, _yielded, 0))
        _yielded = 0


def _run_other(handle, callback, owner):
    """Every handle but a program task's step: hidden tasks, timers, I/O, callbacks, plumbing."""
    global _actor, _actor_task, _actor_io, _actor_waker, _actor_timeout, _running
    _emit_yield()
    try:
        if owner is not None and isinstance(owner, _TaskTypes):
            # A step of one of asyncio's own tasks, on behalf of whoever created it.
            _actor, _actor_task = _hidden.get(id(owner), (0, 0))
            result = _original_run(handle)
            if owner.done():
                _hidden.pop(id(owner), None)   # (its id may come back as a program task's)
            return result
        if callback is _set_result_unless_cancelled and handle._args and id(handle._args[0]) in _sleep_handles:
            future = handle._args[0]
            del _sleep_handles[id(future)]
            info = _sleeper(future)
            if info is not None:
                _gate("timer", info.eid)
                _record("timerFired", info.eid, 0, 0, 0, "sleeping")
                return _original_run(handle)
        io = _io_handles.pop(handle, None)
        if io is not None:
            fileobj, bit = io
            fd = _fd_number(fileobj)
            eid = _socket_entity(fd)
            if eid:
                _gate("io", eid)
                _record("ioReady", eid, 0, bit)
                _actor, _actor_task, _actor_io, _actor_waker = 0, _fd_owner.get(fd, 0), eid, _peer_writer(fd)
                return _original_run(handle)
        named = _callbacks.pop(handle, None)
        if named is None and not handle._cancelled and not _internal_callback(getattr(callback, "func", callback)) \
                and not isinstance(handle, events.TimerHandle):
            named = (_name("callback", _callback_name(callback)), False)
        if named is not None:
            eid, timeout = named
            _gate("callback", eid)
            _record("callbackStarted", eid, 0, 0, 1 if isinstance(handle, events.TimerHandle) else 0)
            _actor, _actor_timeout = eid, timeout
            _original_run(handle)
            _record("callbackFinished", eid)
            return None
        # asyncio's own plumbing: no step of its own, done on behalf of whoever scheduled it.
        by = _scheduled_by.pop(handle, None)
        if by is not None:
            _actor, _actor_task, _actor_io, _actor_waker, _actor_timeout = by
        return _original_run(handle)
    finally:
        _actor = _actor_task = _actor_io = _actor_waker = 0
        _actor_timeout = False
        _running = None


def _sleeper(future):
    for callback, _ in getattr(future, "_callbacks", None) or ():
        owner = getattr(callback, "__self__", None)
        if owner is not None:
            return _tasks.get(id(owner))
    return None


def _task_done(info, task):
    if task.cancelled():
        outcome = 2
    elif task.exception() is not None:
        outcome = 1
    else:
        outcome = 0
    _record("taskDone", info.eid, 0, 0, outcome, "done")
    del _tasks[id(task)]
    info.handle = None   # (the handle refers to its task's info: no cycle left to collect)
    _child_done(task, info)


def _child_done(task, info):
    """The tasks awaiting this one count it; one that awaited it now awaits its next child
    (gather), or is about to wake."""
    for parent, children in _awaited_by.pop(id(task), ()):
        if parent.children is not children or parent.wait is None:
            continue  # (a wait that is over)
        parent.left -= 1
        if children[parent.cursor] is not task:
            continue  # not the one it awaits: only counted
        while parent.cursor < len(children) - 1 and children[parent.cursor].done():
            parent.cursor += 1
        if parent.others:
            parent.others = [child for child in parent.others if not child.done()]
        left = parent.left + len(parent.others)
        if left > 0:
            parent.on = _eid_of(children[parent.cursor])
            _record("awaitNext", parent.eid, parent.on, left, 0, "awaitingChildren")
        else:
            _record("relayQueued", parent.eid, info.eid)


