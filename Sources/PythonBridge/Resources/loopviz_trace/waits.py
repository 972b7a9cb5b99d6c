"""Names for what the program uses (tasks, callbacks, primitives, sockets) and what a task waits
on, read from its coroutine chain when its step ends."""
import asyncio
import asyncio.base_events as base_events
import asyncio.locks as locks
import asyncio.queues as queues
import asyncio.selector_events as selector_events
import asyncio.streams as streams
import asyncio.tasks as tasks
import os

from . import core
from .wire import _deadline, _name


# What a task waits on (a _Task's `wait`), and which I/O (its `detail`).
_SLEEP, _EVENT, _PRIMITIVE, _CHILDREN, _WAIT_FOR, _IO, _OTHER = range(7)
_IO_READ, _IO_WRITE, _IO_CONNECT, _IO_ACCEPT, _IO_CLOSE, _IO_RESOLVE = range(6)
_ASYNCIO_DIR = os.path.dirname(asyncio.__file__)

_coro_counts = {}
_entities = {}      # id(primitive or socket) -> entity
_keep = []          # primitives whose ids are in _entities (kept alive: ids stay unique)
_kind_counts = {}
_fds = {}           # fd -> socket entity, while the fd is open
_fd_sockets = {}    # fd -> its socket object (a transport's), for the peer's address


def _entity(obj, kind, label):
    eid = _entities.get(id(obj))
    if eid is None:
        eid = _name(kind, label)
        _entities[id(obj)] = eid
        _keep.append(obj)
    return eid


def _primitive(obj):
    """Lock#1, Semaphore#1, Event#1, Queue#1 (with its "not full" / "not empty" sides)."""
    eid = _entities.get(id(obj))
    if eid is not None:
        return eid
    label = type(obj).__name__
    _kind_counts[label] = _kind_counts.get(label, 0) + 1
    text = "%s#%d" % (label, _kind_counts[label])
    eid = _entity(obj, "event" if isinstance(obj, locks.Event) else "primitive", text)
    if isinstance(obj, queues.Queue):
        _entities[(id(obj), "put")] = _name("primitive", text + " not full")
        _entities[(id(obj), "get")] = _name("primitive", text + " not empty")
    return eid


def _socket_entity(sock):
    """The entity of a socket (or of an fd number), named "fd N" as loopviz's loop names it."""
    if sock is None:
        return 0
    try:
        fd = sock if isinstance(sock, int) else sock.fileno()
    except (OSError, ValueError):
        return 0
    if fd < 0:
        return 0
    eid = _fds.get(fd)
    if eid is None:
        eid = _fds[fd] = _name("socket", "fd %d" % fd)
    return eid


def _forget_fd(fd):
    """The fd was closed: a later socket on the same number is another entity."""
    _fds.pop(fd, None)
    _fd_sockets.pop(fd, None)
    core._fd_owner.pop(fd, None)


def _task_name(task):
    coro = task.get_coro()
    name = getattr(coro, "__name__", None) or type(coro).__name__
    if name == "main":
        return name
    _coro_counts[name] = _coro_counts.get(name, 0) + 1
    return "%s#%d" % (name, _coro_counts[name])


def _internal(task):
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and code.co_filename.startswith(_ASYNCIO_DIR)


def _internal_callback(func):
    module = getattr(func, "__module__", None) or ""
    return module == "asyncio" or module.startswith("asyncio.")


def _callback_name(callback):
    inner = getattr(callback, "func", callback)
    return getattr(inner, "__qualname__", None) or repr(inner)


# ----------------------------------------------------------------------------------------------
# What a task waits on, read from its coroutine chain when its step ended.

_WAITS = {}


def _waits(function, kind, detail=None):
    code = getattr(function, "__code__", None)
    if code is not None:
        _WAITS[code] = (kind, detail)


_waits(tasks.sleep, _SLEEP)
_waits(locks.Event.wait, _EVENT)
_waits(locks.Lock.acquire, _PRIMITIVE)
_waits(locks.Semaphore.acquire, _PRIMITIVE)
_waits(locks.Condition.wait, _PRIMITIVE)
_waits(queues.Queue.get, _PRIMITIVE, "get")
_waits(queues.Queue.put, _PRIMITIVE, "put")
_waits(tasks.wait_for, _WAIT_FOR)
_waits(getattr(tasks, "_cancel_and_wait", None), _CHILDREN)
_waits(streams.StreamReader._wait_for_data, _IO, _IO_READ)
_waits(streams.FlowControlMixin._drain_helper, _IO, _IO_WRITE)
_waits(streams.StreamWriter.wait_closed, _IO, _IO_CLOSE)
_waits(selector_events.BaseSelectorEventLoop.sock_connect, _IO, _IO_CONNECT)
_waits(selector_events.BaseSelectorEventLoop.sock_accept, _IO, _IO_ACCEPT)
_waits(selector_events.BaseSelectorEventLoop.sock_recv, _IO, _IO_READ)
_waits(selector_events.BaseSelectorEventLoop.sock_sendall, _IO, _IO_WRITE)
_waits(base_events.BaseEventLoop.getaddrinfo, _IO, _IO_RESOLVE)
_waits(base_events.BaseEventLoop.create_connection, _IO, _IO_CONNECT)
# create_server gathers its name lookups in tasks of asyncio's own: awaiting them is a lookup.
_waits(base_events.BaseEventLoop.create_server, _IO, _IO_RESOLVE)
_waits(getattr(selector_events.BaseSelectorEventLoop, "_create_connection_transport", None)
       or base_events.BaseEventLoop._create_connection_transport, _IO, _IO_CONNECT)


def _innermost_frame(task):
    """The frame of the innermost coroutine of the task's await chain."""
    coro = task.get_coro()
    frame = None
    while coro is not None:
        f = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if f is None:
            break
        frame = f
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frame


def _io_socket(frame, detail):
    local = frame.f_locals
    if "sock" in local:
        return local["sock"]
    owner = local.get("self")
    transport = getattr(owner, "_transport", None)
    if transport is None and hasattr(owner, "transport"):
        transport = owner.transport
    if transport is not None:
        return transport.get_extra_info("socket")
    return None


def _classify(info, waiter):
    """Sets what `info`'s task waits on and returns the taskSuspended fields."""
    frame = _innermost_frame(info.task)
    kind, detail = _WAITS.get(frame.f_code, (None, None)) if frame is not None else (None, None)
    if kind is None:
        # Awaiting asyncio's own tasks (create_server's name lookups under a gather): the wait
        # is what they wait on.
        inner = [waiter] if isinstance(waiter, core._TaskTypes) else list(getattr(waiter, "_children", ()) or ())
        if inner and all(isinstance(c, core._TaskTypes) and id(c) in core._hidden for c in inner):
            hidden_frame = _innermost_frame(inner[0])
            if hidden_frame is not None and hidden_frame.f_code in _WAITS:
                frame = hidden_frame
                kind, detail = _WAITS[frame.f_code]
    info.via = waiter
    if kind == _SLEEP:
        handle = _sleep_timer(waiter)
        deadline = _deadline(handle.when()) if handle is not None else 0
        info.wait, info.on = _SLEEP, 0
        return (0, deadline, 1, "sleeping")
    if kind in (_EVENT, _PRIMITIVE):
        obj = frame.f_locals.get("self")
        eid = _primitive(obj) if obj is not None else 0
        if detail is not None and obj is not None:
            eid = _entities[(id(obj), detail)]
        info.wait, info.on = kind, eid
        return (eid, 0, 2 if kind == _EVENT else 4, "waiting")
    if kind == _IO:
        eid = _socket_entity(_io_socket(frame, detail))
        info.wait, info.on = _IO, eid
        return (eid, detail, 6, "waitingIO")
    children = None
    if kind == _WAIT_FOR or kind == _CHILDREN:
        inner = frame.f_locals.get("fut")
        children = [inner] if inner is not None else None
    elif isinstance(waiter, core._TaskTypes):
        children = [waiter]
    elif waiter is not None and hasattr(waiter, "_children"):
        children = list(waiter._children)
    if children:
        info.wait = _WAIT_FOR if kind == _WAIT_FOR else _CHILDREN
        info.children = children
        # Every program task among the children says when it ends (core._child_done): the count
        # left and a cursor to the first unfinished child keep a gather of n children O(n), not
        # O(n²). Other children (futures, asyncio's own tasks) are looked at when counting.
        info.left = 0
        info.others = []
        info.cursor = len(children) - 1
        for index in range(len(children) - 1, -1, -1):
            child = children[index]
            if not child.done():
                info.cursor = index
                if id(child) in core._tasks:
                    info.left += 1
                    core._awaited_by.setdefault(id(child), []).append((info, children))
                else:
                    info.others.append(child)
        info.on = _eid_of(children[info.cursor])
        return (info.on, 0, 3, "awaitingChildren")
    info.wait, info.on = _OTHER, 0
    return (0, 0, 5, "waiting")


def _eid_of(child):
    known = core._tasks.get(id(child))
    return known.eid if known is not None else 0


def _sleep_timer(future):
    return _sleep_handles.get(id(future))


_sleep_handles = {}


