/// One scheduling decision of the loop: a fixed-size plain value (32 bytes), so that writing it
/// into the ring is a copy and never an allocation.
///
/// Fields are generic slots whose meaning depends on ``kind`` (documented on each case of
/// ``TraceKind``). Names and output text are never stored inline: ``subject``, ``other`` and,
/// for output lines, ``value`` are ids into the run's ``NameTable``.
public struct TraceRecord: Sendable, Hashable {
    /// Loop time in nanoseconds since the loop started (virtual or real × speed).
    public var time: Int64
    /// A time or a count that goes with the kind: a deadline, an output-text id, a drop count.
    public var value: Int64
    /// The entity the record is about: a task, a callback or a primitive (event, lock, ...).
    public var subject: EntityID
    /// A second entity: the parent of a spawned task, who woke a task, what a task waits on.
    public var other: EntityID
    public var kind: TraceKind
    /// A reason, a cause or an outcome, depending on ``kind``.
    public var detail: UInt8
    /// The subject task's state *after* this record, so a reader that lost records to a full
    /// ring is right again from the next record on. ``TaskState/unknown`` when not a task.
    public var state: TaskState

    @inlinable
    public init(
        time: Int64, kind: TraceKind, subject: EntityID, other: EntityID = .none,
        value: Int64 = 0, detail: UInt8 = 0, state: TaskState = .unknown
    ) {
        self.time = time
        self.value = value
        self.subject = subject
        self.other = other
        self.kind = kind
        self.detail = detail
        self.state = state
    }
}

/// Identifies a task, callback or primitive for the whole run; its name lives in the ``NameTable``.
public struct EntityID: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var rawValue: UInt32
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// "Nobody": no parent, no waker. Computed, not a `static let`: a stored static is a lazily
    /// initialised global, and every use from another module went through its accessor (a call
    /// on each trace record the loop writes).
    @inlinable public static var none: EntityID { EntityID(rawValue: 0) }
    public static func < (a: EntityID, b: EntityID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "#\(rawValue)" }
}

/// What a record says happened. The comment on each case tells what the generic fields hold.
public enum TraceKind: UInt8, Sendable, CaseIterable {
    /// A task was created. `other`: the parent task (`.none` for the root).
    case taskSpawned
    /// A task can run. `other`: who made it ready; `detail`: a ``ReadyCause``.
    case taskReady
    /// A task slice starts (the loop resumes the task).
    case taskResumed
    /// A slice ended without finishing the task. `detail`: a ``SuspendReason``;
    /// `other`: what it waits on; `value`: the wake-up deadline for a sleep. After a yield the
    /// task is ready at once: `state` says `ready` and no `taskReady` record follows.
    case taskSuspended
    /// A slice finished the task. `detail`: a ``TaskOutcome``.
    case taskDone
    /// A timer was armed. `subject`: the sleeping task or the callback; `value`: its deadline;
    /// `detail`: a ``TimerPurpose``.
    case timerScheduled
    /// A sleep's timer fired. `subject`: the sleeping task.
    case timerFired
    /// A callback starts running. `detail`: a ``CallbackOrigin``.
    case callbackStarted
    /// That callback returned.
    case callbackFinished
    /// An event was set. `subject`: the event; `other`: who set it; `value`: waiters woken.
    case eventSet
    /// An event was cleared. `subject`: the event; `other`: who cleared it.
    case eventCleared
    /// The program printed a line. `subject`: who; `value`: the text's id in the name table;
    /// `detail`: an ``OutputStream`` (a CPython program's stderr is shown too).
    case output
    /// The loop has nothing ready and waits. `value`: the deadline it waits for, or -1 for none.
    case loopIdle
    /// Records were lost to a full ring just before this one. `value`: how many.
    case gap
    /// The run is over. `detail`: a ``RunOutcome``.
    case runFinished
    /// A file descriptor the loop watches became ready: the start of an I/O step.
    /// `subject`: the socket; `value`: ``IOReadiness`` bits.
    case ioReady
    /// Bytes arrived on a socket. `subject`: the socket; `value`: how many (0: end of stream);
    /// `detail`: an ``IOReadOutcome``.
    case ioRead
    /// The program wrote bytes to a socket. `subject`: the socket; `other`: who wrote;
    /// `value`: how many; `detail`: an ``IOWriteOutcome``.
    case ioWritten
    /// A listening socket accepted a connection. `subject`: the new socket; `other`: the listener.
    case ioAccepted
    /// A socket was opened (connected, listening). `subject`: the socket; `other`: who opened it;
    /// `detail`: an ``IOOperation`` (connect, accept = listen).
    case ioOpened
    /// A socket was closed. `subject`: the socket; `other`: who closed it (`.none`: the loop);
    /// `detail`: an ``IOCloseReason``.
    case ioClosed
    /// The loop came back from waiting in its selector. `value`: wall nanoseconds it slept;
    /// `detail`: a ``PollEnd`` (what ended the wait). Only written after a wait that could block.
    case loopPolled
    /// A callback joined the ready queue (`callSoon`, or from another thread). `subject`: the
    /// callback; `other`: who queued it; `detail`: a ``CallbackOrigin``.
    case callbackQueued
    /// A timer came due and its work joined the ready queue. `subject`: the sleeping task or the
    /// callback; `detail`: a ``TimerPurpose``.
    case timerDue
    /// A pending timer or queued callback was cancelled: it will never run. `subject`: the
    /// callback, or the task whose sleep was cut short; `detail`: a ``TimerPurpose``.
    case timerCancelled
    /// One extra hop joined the ready queue before a task is made ready (asyncio's gather
    /// done-callback). `subject`: the task it will wake; `other`: the child that finished.
    case relayQueued
    /// The selector found a watched fd ready and queued its handler. `subject`: the socket;
    /// `value`: ``IOReadiness`` bits.
    case ioQueued
    /// A task took a lock or a semaphore's place. `subject`: the primitive; `other`: the task;
    /// `value`: the semaphore's value after (0 for a lock).
    case primitiveAcquired
    /// A task let a lock or a semaphore's place go. `subject`: the primitive; `other`: the task;
    /// `value`: the semaphore's value after.
    case primitiveReleased
    /// A queue's item count changed. `subject`: the queue; `other`: who put or got; `value`: items now.
    case queueSize
    /// A task awaiting several tasks (gather) saw the one it was said to await finish, and now
    /// awaits the next. `subject`: the waiting task; `other`: the task it awaits now; `value`:
    /// how many it still awaits.
    case awaitNext
}

/// The state of a task as a lane shows it.
public enum TaskState: UInt8, Sendable, CaseIterable {
    /// Not a task record, or not known (the state is carried by the next task record).
    case unknown
    /// Created or woken and waiting for its turn in the ready queue.
    case ready
    /// Its slice is running on the loop thread.
    case running
    /// Suspended in `sleep` until a deadline.
    case sleeping
    /// Suspended until an event (or another primitive) lets it go.
    case waiting
    /// Suspended in `gather` or awaiting another task.
    case awaitingChildren
    /// Suspended in a plain yield (`sleep(0)`); it is ready again at once.
    case yielded
    /// Finished: returned, threw or was cancelled.
    case done
    /// Suspended until a socket is readable or writable (or a connection is set up).
    case waitingIO
}

/// Why a task was made ready (`taskReady.detail`).
public enum ReadyCause: UInt8, Sendable, CaseIterable {
    /// Just spawned.
    case spawned
    /// Its own `sleep(0)`: it went to the back of the ready queue.
    case yielded
    /// Its sleep's timer fired.
    case timer
    /// An event it waited on was set (`other` is the event).
    case eventSet
    /// The children it awaited are done (`other` is the last child).
    case childDone
    /// It was cancelled while suspended.
    case cancelled
    /// Another thread scheduled it through the thread-safe entry.
    case external
    /// A primitive other than the above released it (`other` is the primitive).
    case released
    /// The Swift runtime enqueued it (not through one of the loop's primitives).
    case runtime
    /// A socket it waited on became ready (`other` is whoever caused it, when known: the task
    /// that wrote the bytes or closed the peer socket; `value` is the socket).
    case io
}

/// Where a printed line went (`output.detail`).
public enum OutputStream: UInt8, Sendable, CaseIterable {
    case standardOutput, standardError
}

/// Why a slice ended (`taskSuspended.detail`).
public enum SuspendReason: UInt8, Sendable, CaseIterable {
    case yield, sleep, event, children, primitive, other
    /// Waiting on a socket: `taskSuspended.value` holds the ``IOOperation``.
    case io
}

/// What a task waiting on I/O waits for (`taskSuspended.value` when the reason is `io`).
public enum IOOperation: UInt8, Sendable, CaseIterable {
    /// Bytes (or the end of the stream) to read.
    case read
    /// Room in the socket's send buffer (`drain` under flow control).
    case write
    /// A connection being set up.
    case connect
    /// A connection to accept (also: listening).
    case accept
    /// The connection to finish closing (`waitClosed`).
    case close
    /// A host name to be resolved.
    case resolve
}

/// Readiness bits of an `ioReady` record's value.
public struct IOReadiness: OptionSet, Sendable, Hashable {
    public let rawValue: Int64
    public init(rawValue: Int64) { self.rawValue = rawValue }
    public static let readable = IOReadiness(rawValue: 1)
    public static let writable = IOReadiness(rawValue: 2)
    /// An error or a hang-up on the fd.
    public static let error = IOReadiness(rawValue: 4)
}

/// What a read on a socket found (`ioRead.detail`).
public enum IOReadOutcome: UInt8, Sendable, CaseIterable {
    case data, endOfStream, error
}

/// What became of bytes the program wrote (`ioWritten.detail`).
public enum IOWriteOutcome: UInt8, Sendable, CaseIterable {
    /// The kernel took them all at once.
    case sent
    /// Some wait in the transport's buffer for the socket to be writable.
    case buffered
    /// Buffered past the high-water mark: `drain()` will wait.
    case paused
}

/// Why a socket was closed (`ioClosed.detail`).
public enum IOCloseReason: UInt8, Sendable, CaseIterable {
    /// The program closed it.
    case closed
    /// It failed (reset, broken pipe, refused).
    case error
    /// The loop closed it at the end of the run.
    case loopClosed
}

/// What ended a wait in the selector (`loopPolled.detail`).
public enum PollEnd: UInt8, Sendable, CaseIterable {
    /// The timeout passed: a timer is due.
    case timeout
    /// A socket became ready.
    case io
    /// Another thread woke the loop.
    case wakeup
}

/// How a task ended (`taskDone.detail`).
public enum TaskOutcome: UInt8, Sendable, CaseIterable {
    case ok, error, cancelled
}

/// What a timer is for (`timerScheduled.detail`).
public enum TimerPurpose: UInt8, Sendable, CaseIterable {
    case sleep, callback
}

/// How a callback came to run (`callbackStarted.detail`).
public enum CallbackOrigin: UInt8, Sendable, CaseIterable {
    /// `callSoon`.
    case soon
    /// `callLater` / `callAt`, its timer came due.
    case timer
    /// `callSoonThreadsafe` from another thread.
    case external
}

/// How a run ended (`runFinished.detail`).
public enum RunOutcome: UInt8, Sendable, CaseIterable {
    case ok, error, deadlock
    /// The loop was stopped (the screen was closed, a signal) before the program finished.
    case stopped
}

extension TraceRecord {
    /// The record's detail byte read as `T`, or nil when it does not fit `T`.
    @inlinable
    public func detail<T: RawRepresentable>(as _: T.Type) -> T? where T.RawValue == UInt8 {
        T(rawValue: detail)
    }
}
