import Trace

/// The loop's own record of one task: what it waits for and how to resume it. One allocation
/// per task besides the Swift task itself: its body and result live here too (``TaskBoxOf``),
/// and the task's entry point captures nothing.
/// `@unchecked Sendable`: captured by the task's body, but touched on the loop thread only.
class TaskBox: @unchecked Sendable {
    // The small fields first, and at most 16 bytes of them, so that the pointers start at offset
    // 32: with its body and result the box is then a 65-byte object, an 80-byte malloc chunk (72
    // usable; 81 bytes and a 96-byte chunk before). Every byte here is paid by each task, so the
    // flags share a byte, the observers live in the loop (``EventLoop/observers``; few tasks
    // have any), and the suspension order is kept in debug builds only (it orders waiters in
    // ``EventLoop/debugSnapshot()``, which only tests read).
    final let id: EntityID
    /// Bumped at every suspension, so a stale wake-up (a timer of a cancelled sleep, an event
    /// waiter entry of a task that has moved on) is recognised and ignored.
    @exclusivity(unchecked) final var waitGeneration: UInt32 = 0
    @exclusivity(unchecked) final var waitingOn: EntityID = .none
    @exclusivity(unchecked) final var state: TaskState = .ready
    /// What the current suspension is for, as the trace reports it.
    @exclusivity(unchecked) final var suspendReason: SuspendReason = .other
    /// The Bools below and ``outcome``, one bit (two for the outcome) each.
    @exclusivity(unchecked) private final var flags: UInt8 = 0
    #if DEBUG
    /// When the current suspension began (the loop's suspension counter, which wraps: compare
    /// ages, `suspensionCount &- suspendedAt`, not values).
    @exclusivity(unchecked) final var suspendedAt: UInt32 = 0
    #endif
    /// The Swift task's pointer: jobs the runtime enqueues for this task carry it. The runtime
    /// keeps the task alive until its last slice, after which ``EventLoop/finish(_:)`` forgets it.
    final var pointer: UnsafeRawPointer?
    /// Set while the task is suspended in one of the loop's primitives.
    @exclusivity(unchecked) final var continuation: UnsafeContinuation<Void, any Error>?

    init(id: EntityID) {
        self.id = id
    }

    // MARK: Flags

    private static let resumeQueuedBit: UInt8 = 1 << 0
    private static let cancelRequestedBit: UInt8 = 1 << 1
    private static let resumeWithCancellationBit: UInt8 = 1 << 2
    private static let finishedBit: UInt8 = 1 << 3
    private static let hasObserversBit: UInt8 = 1 << 4
    private static let outcomeShift: UInt8 = 5
    private static let outcomeMask: UInt8 = 0b11 << 5

    @inline(__always)
    private final func flag(_ bit: UInt8) -> Bool { flags & bit != 0 }
    @inline(__always)
    private final func setFlag(_ bit: UInt8, _ on: Bool) { flags = on ? flags | bit : flags & ~bit }

    /// A resumption is already in the ready queue: a second wake-up must not queue another.
    final var resumeQueued: Bool {
        @inline(__always) get { flag(Self.resumeQueuedBit) }
        @inline(__always) set { setFlag(Self.resumeQueuedBit, newValue) }
    }
    final var cancelRequested: Bool {
        @inline(__always) get { flag(Self.cancelRequestedBit) }
        @inline(__always) set { setFlag(Self.cancelRequestedBit, newValue) }
    }
    /// The next resumption throws ``CancelledError`` into the task.
    final var resumeWithCancellation: Bool {
        @inline(__always) get { flag(Self.resumeWithCancellationBit) }
        @inline(__always) set { setFlag(Self.resumeWithCancellationBit, newValue) }
    }
    final var finished: Bool {
        @inline(__always) get { flag(Self.finishedBit) }
        @inline(__always) set { setFlag(Self.finishedBit, newValue) }
    }
    /// Someone is told when the task finishes: the loop's ``EventLoop/observers`` has an entry
    /// for it (so a task nobody awaits finishes without a lookup there).
    final var hasObservers: Bool {
        @inline(__always) get { flag(Self.hasObserversBit) }
        @inline(__always) set { setFlag(Self.hasObserversBit, newValue) }
    }
    final var outcome: TaskOutcome {
        @inline(__always) get { TaskOutcome(rawValue: (flags & Self.outcomeMask) >> Self.outcomeShift)! }
        @inline(__always) set { flags = (flags & ~Self.outcomeMask) | (newValue.rawValue << Self.outcomeShift) }
    }

    /// A task waiting on the loop's primitives is only woken by a matching generation.
    final func isWaiting(generation: UInt32) -> Bool {
        continuation != nil && waitGeneration == generation
    }

    /// The task's whole life: its body, then its outcome recorded. See ``TaskBoxOf``.
    func runBody() async {}

    /// What the task threw, if it did.
    var error: (any Error)? { nil }
}

/// A task's box with its body and, once it has ended, its result.
/// `@unchecked Sendable`: as ``TaskBox``; the result is written by the task's last slice and
/// read by tasks of the same loop, all on the loop thread.
final class TaskBoxOf<Value: Sendable>: TaskBox, @unchecked Sendable {
    /// The body until the task starts, the result once it has ended: one field for both.
    private enum Stage {
        case notStarted(@Sendable () async throws -> Value)
        case running
        case ended(Result<Value, any Error>)
    }

    private var stage: Stage

    init(id: EntityID, body: @escaping @Sendable () async throws -> Value) {
        stage = .notStarted(body)
        super.init(id: id)
    }

    /// The task's value or error, once it has ended.
    var result: Result<Value, any Error>? {
        if case .ended(let result) = stage { result } else { nil }
    }

    override func runBody() async {
        guard case .notStarted(let body) = stage else { preconditionFailure("a task runs its body once") }
        stage = .running
        let result: Result<Value, any Error>
        do {
            // A task cancelled before its first slice ends at once, as in asyncio.
            if cancelRequested { throw CancelledError() }
            result = .success(try await body())
            outcome = .ok
        } catch {
            result = .failure(error)
            outcome = (error is CancelledError || error is CancellationError) ? .cancelled : .error
        }
        stage = .ended(result)
        finished = true
    }

    override var error: (any Error)? {
        if case .ended(.failure(let error)) = stage { error } else { nil }
    }
}

/// A task running on an ``EventLoop``: asyncio's `Task`. Use it on the loop thread.
/// `@unchecked Sendable`: it travels into other tasks' closures, and every use goes to the
/// loop thread (``cancel()`` checks it in debug builds).
public struct LoopTask<Value: Sendable>: @unchecked Sendable {
    let box: TaskBoxOf<Value>
    unowned let loop: EventLoop

    /// The task's id in the trace.
    public var id: EntityID { box.id }
    /// `count#1`, `main`: the coroutine's name numbered per name, as in the schedule format.
    public var name: String { loop.names.name(box.id) }
    /// Whether the task has finished (returned, thrown or been cancelled). Loop-only, as every
    /// read of the task's state (checked in debug builds): the loop finishes it on its thread.
    public var isDone: Bool {
        loop.assertInLoop()
        return box.finished
    }
    /// Whether the task ended by cancellation. Loop-only.
    public var isCancelled: Bool {
        loop.assertInLoop()
        return box.finished && box.outcome == .cancelled
    }

    /// Waits for the task and returns its value or rethrows its error (asyncio's `await task`).
    public var value: Value {
        get async throws {
            // Checked here too: a finished task skips awaitCompletion (and its check).
            loop.assertInLoop()
            if !box.finished { try await loop.awaitCompletion(of: [box], relayHops: 0) }
            return try box.result!.get()
        }
    }

    /// Requests cancellation: the task is resumed with ``CancelledError`` at its current (or next)
    /// suspension, as `Task.cancel()` does in asyncio. Returns false when the task was done already.
    @discardableResult
    public func cancel() -> Bool {
        loop.cancel(box)
    }
}

/// Thrown into a task at its suspension point when it is cancelled (asyncio's `CancelledError`).
public struct CancelledError: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "cancelled" }
}
