import Trace

/// One unit of work in the ready queue: what `_run_once` calls a handle.
enum ReadyItem {
    /// A job the Swift runtime enqueued: a new task's first slice, or a resumption the loop did
    /// not make itself (a continuation resumed by code outside the loop's primitives).
    case job(UnownedJob)
    /// Resume a task suspended in one of the loop's primitives (if it still waits with this
    /// generation). Its slice runs right here, in this pass.
    ///
    /// Unretained: a retain when queued and a release when run were about 95 instructions of a
    /// task switch. Sound because the task cannot finish, and leave ``EventLoop/liveTasks``
    /// (which holds it), while this item is queued: the only resumption of a task parked in a
    /// primitive is this item's dispatch (``TaskBox/resumeQueued`` keeps it to one item), and a
    /// task ends only in a slice.
    case resume(Unmanaged<TaskBox>, generation: UInt32)
    /// One extra pass before the task is made ready: asyncio wakes a `gather` parent through a
    /// done-callback hop, and matching its order means taking the same number of passes.
    case relay(TaskBox, generation: UInt32, waker: EntityID)
    /// A sleep's timer came due.
    case sleepTimer(TaskBox, generation: UInt32)
    /// A callback from `callSoon`, `callLater` or another thread.
    case callback(CallbackBox)
    /// A watched fd became ready: run its handler (asyncio's `_read_ready`, `_write_ready`,
    /// `_accept_connection`). A step of its own, traced as `ioReady`.
    case io(IOHandler, IOReadiness)
    /// The loop's own plumbing (asyncio's protocol callbacks and future hops: `connection_made`,
    /// `_call_connection_lost`, a waiter's result): it takes a pass, as in CPython, so that
    /// schedules match, but it is not a step and writes no record of its own.
    case plumbing(() -> Void)
}

/// A callback scheduled on the loop, with the name the trace and the schedule show.
/// `@unchecked Sendable`: created on any thread, then touched by the loop thread only.
final class CallbackBox: @unchecked Sendable {
    let name: String
    let body: () -> Void
    let origin: CallbackOrigin
    /// Resolved on the loop thread when the callback is queued.
    var id: EntityID = .none
    var cancelled = false
    /// In the timer heap, not fired yet: cancelling it leaves a dead timer there.
    var armed = false
    /// It has run (cancelling it now changes nothing).
    var ran = false

    init(name: String, origin: CallbackOrigin, body: @escaping () -> Void) {
        self.name = name
        self.origin = origin
        self.body = body
    }
}

/// A timer in the loop's heap, ordered by `(deadline, sequence)`: the sequence keeps FIFO order
/// among equal deadlines, which keeps traces deterministic.
struct TimerEntry: Comparable {
    enum Action {
        case wake(TaskBox, generation: UInt32)
        case callback(CallbackBox)
    }

    // In this order, an entry is 24 bytes (a 12-byte action, then the sequence in its tail):
    // the heap holds one per sleeping task.
    let deadline: Int64
    let action: Action
    /// 32 bits, not 64 (which made an entry 32 bytes): before it would wrap, the loop numbers
    /// the timers in the heap again in their order (`renumberTimers`).
    var sequence: UInt32

    static func < (a: TimerEntry, b: TimerEntry) -> Bool {
        (a.deadline, a.sequence) < (b.deadline, b.sequence)
    }

    static func == (a: TimerEntry, b: TimerEntry) -> Bool {
        a.deadline == b.deadline && a.sequence == b.sequence
    }

    /// A timer whose sleep was cancelled or whose callback was cancelled does nothing.
    var isLive: Bool {
        switch action {
        case .wake(let box, let generation): box.isWaiting(generation: generation)
        case .callback(let callback): !callback.cancelled
        }
    }
}

/// Work handed to the loop by another thread.
/// `@unchecked Sendable`: each item is handed over once, through the inbox's mutex, and only the
/// loop thread runs it.
enum InboxItem: @unchecked Sendable {
    case job(UnownedJob)
    case callback(CallbackBox)
    /// Loop plumbing from another thread (a host name resolved).
    case plumbing(() -> Void)
}

/// A cancellable handle on a scheduled callback (asyncio's `TimerHandle`).
/// `@unchecked Sendable`: it may travel, but ``cancel()`` checks that it runs on the loop thread.
public struct CallbackHandle: @unchecked Sendable {
    let box: CallbackBox
    unowned let loop: EventLoop
    /// Prevents the callback from running, if it has not run yet. Call it on the loop thread.
    public func cancel() {
        loop.assertInLoop()
        guard !box.cancelled, !box.ran else { return }
        box.cancelled = true
        if box.armed { loop.deadTimerCount += 1 }
        loop.emit(.timerCancelled, subject: box.id, detail: TimerPurpose.callback.rawValue)
    }
}

/// A handler the selector runs when its fd is ready. Loop thread only.
final class IOHandler {
    /// The socket in the trace.
    let socket: EntityID
    let body: (IOReadiness) -> Void
    /// Unregistered: a readiness already queued does nothing.
    var cancelled = false

    init(socket: EntityID, body: @escaping (IOReadiness) -> Void) {
        self.socket = socket
        self.body = body
    }
}

/// Who runs when an fd is readable and when it is writable (asyncio keeps one handle of each).
struct IORegistration {
    var reader: IOHandler?
    var writer: IOHandler?
}
