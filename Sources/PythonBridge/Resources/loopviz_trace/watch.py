"""The hooks that name what happens around the steps: timers scheduled, sockets ready or written,
the program's own primitives (events set, locks and semaphores taken and let go, queue sizes)."""
import asyncio.base_events as base_events
import asyncio.selector_events as selector_events
import asyncio.tasks as tasks
import socket
import sys

from . import core
from . import wire
from .waits import _ASYNCIO_DIR, _fd_sockets, _callback_name, _forget_fd, _internal_callback, _primitive, _sleep_handles, _socket_entity
from .wire import _deadline, _name, _record

_writers = {}       # (local address, peer address) -> the last task that wrote on that socket
_original_call_at = base_events.BaseEventLoop.call_at
_original_process_events = selector_events.BaseSelectorEventLoop._process_events
_original_add_reader = selector_events.BaseSelectorEventLoop._add_reader
_original_add_writer = selector_events.BaseSelectorEventLoop._add_writer
_original_transport_init = selector_events._SelectorTransport.__init__
_original_socket_close = socket.socket.close
_release_waiter = getattr(tasks, "_release_waiter", None)


def _call_at(self, when, callback, *args, context=None):
    handle = _original_call_at(self, when, callback, *args, context=context)
    deadline = _deadline(when)
    if callback is core._set_result_unless_cancelled and args and core._running is not None:
        _sleep_handles[id(args[0])] = handle
        _record("timerScheduled", core._running.eid, 0, deadline, 0)
    elif callback is _release_waiter or getattr(callback, "__name__", "") == "_on_timeout":
        eid = _name("callback", "_wait_for_timeout")   # asyncio's wait_for timeout, as loopviz names it
        core._callbacks[handle] = (eid, True)
        _record("timerScheduled", eid, core._who(), deadline, 1)
    elif not _internal_callback(getattr(callback, "func", callback)):
        eid = _name("callback", _callback_name(callback))
        core._callbacks[handle] = (eid, False)
        _record("timerScheduled", eid, core._who(), deadline, 1)
    return handle




def _process_events(self, event_list):
    for key, mask in event_list:
        reader, writer = key.data
        for handle, bit in ((reader, 1), (writer, 2)):
            if handle is not None and mask & bit:
                core._io_handles[handle] = (key.fileobj, bit)
    return _original_process_events(self, event_list)


def _peer_writer(fd):
    """Who wrote the bytes a loopback socket has to read: the last writer on its peer."""
    sock = _fd_sockets.get(fd)
    if sock is None:
        return 0
    try:
        return _writers.get((sock.getpeername(), sock.getsockname()), 0)
    except (OSError, AttributeError):
        return 0


def _add_reader(self, fd, callback, *args):
    core._fd_owner[_fd_number(fd)] = core._parent()
    return _original_add_reader(self, fd, callback, *args)


def _add_writer(self, fd, callback, *args):
    core._fd_owner[_fd_number(fd)] = core._parent()
    return _original_add_writer(self, fd, callback, *args)


def _fd_number(fileobj):
    try:
        return fileobj if isinstance(fileobj, int) else fileobj.fileno()
    except (OSError, ValueError, AttributeError):
        return -1


def _transport_init(self, loop, sock, *args, **kwargs):
    _original_transport_init(self, loop, sock, *args, **kwargs)
    _fd_sockets[self._sock_fd] = sock


def _socket_close(self):
    fd = self.fileno()
    if fd >= 0:
        _forget_fd(fd)
    return _original_socket_close(self)


# Primitives: what the loop-state panel shows (who holds a lock, a queue's size, events set).

def _wrap_event_set(original):
    def set(self):
        # asyncio's own events (a Queue's `_finished`) are plumbing, not the program's.
        if not self._value and not sys._getframe(1).f_code.co_filename.startswith(_ASYNCIO_DIR):
            woken = sum(1 for f in self._waiters if not f.done())
            _record("eventSet", _primitive(self), core._who(), woken)
        return original(self)
    return set


def _wrap_acquire(original):
    async def acquire(self):
        result = await original(self)
        value = getattr(self, "_value", 0)
        _record("primitiveAcquired", _primitive(self), core._who(), value if isinstance(value, int) else 0)
        return result
    acquire.__wrapped__ = original
    return acquire


def _wrap_release(original):
    def release(self):
        result = original(self)
        value = getattr(self, "_value", 0)
        _record("primitiveReleased", _primitive(self), core._who(), value if isinstance(value, int) else 0)
        return result
    return release


def _wrap_queue(original):
    def change(self, *args):
        result = original(self, *args)
        _record("queueSize", _primitive(self), core._who(), self.qsize())
        return result
    return change


def _wrap_transport_write(original):
    def write(self, data):
        sock = self._sock
        if sock is not None and core._running is not None:
            try:
                _writers[(sock.getsockname(), sock.getpeername())] = core._running.eid
            except OSError:
                pass
            _record("ioWritten", _socket_entity(sock), core._running.eid, len(data))
        return original(self, data)
    return write

