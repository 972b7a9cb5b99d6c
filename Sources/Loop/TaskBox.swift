import Trace

/// The loop's own record of one task: what it waits for and how to resume it.
/// `@unchecked Sendable`: captured by the task's body, but touched on the loop thread only.
final class TaskBox: @unchecked Sendable {
    let id: EntityID
    let name: String
    /// The Swift task's pointer: jobs the runtime enqueues for this task carry it.
    var pointer: UnsafeRawPointer?
    /// Keeps the Swift task object (and so `pointer`) alive while the loop knows the task.
    var handle: Task<Void, Never>?

    @exclusivity(unchecked) var state: TaskState = .ready
    /// Set while the task is suspended in one of the loop's primitives.
    @exclusivity(unchecked) var continuation: UnsafeContinuation<Void, any Error>?
    /// Bumped at every suspension, so a stale wake-up (a timer of a cancelled sleep, an event
    /// waiter entry of a task that has moved on) is recognised and ignored.
    @exclusivity(unchecked) var waitGeneration: UInt32 = 0
    /// What the current suspension is for, as the trace reports it.
    @exclusivity(unchecked) var suspendReason: SuspendReason = .other
    @exclusivity(unchecked) var waitingOn: EntityID = .none
    @exclusivity(unchecked) var wakeDeadline: Int64 = 0
    /// The error the next resumption throws into the task (cancellation).
    @exclusivity(unchecked) var pendingError: (any Error)?
    /// A resumption is already in the ready queue: a second wake-up must not queue another.
    @exclusivity(unchecked) var resumeQueued = false
    @exclusivity(unchecked) var cancelRequested = false
    /// When the current suspension began (the loop's suspension counter).
    @exclusivity(unchecked) var suspendedAt: UInt64 = 0

    @exclusivity(unchecked) var finished = false
    var outcome: TaskOutcome = .ok
    /// What the task threw, if it did.
    var error: (any Error)?
    /// Run on the loop thread right after the task's last slice (gather, awaiting tasks).
    var observers = ObserverList.none

    init(id: EntityID, name: String) {
        self.id = id
        self.name = name
    }

    /// A task waiting on the loop's primitives is only woken by a matching generation.
    func isWaiting(generation: UInt32) -> Bool {
        continuation != nil && waitGeneration == generation
    }
}

/// Where a task's result waits until someone reads it. `@unchecked Sendable`: written by the
/// task's last slice and read by tasks of the same loop, all on the loop thread.
final class ResultBox<Value: Sendable>: @unchecked Sendable {
    var result: Result<Value, any Error>?
}

/// A task running on an ``EventLoop``: asyncio's `Task`. Use it on the loop thread.
/// `@unchecked Sendable`: it travels into other tasks' closures, and every use goes to the
/// loop thread (``cancel()`` checks it in debug builds).
public struct LoopTask<Value: Sendable>: @unchecked Sendable {
    let box: TaskBox
    let result: ResultBox<Value>
    unowned let loop: EventLoop

    /// The task's id in the trace.
    public var id: EntityID { box.id }
    /// `count#1`, `main`: the coroutine's name numbered per name, as in the schedule format.
    public var name: String { box.name }
    /// Whether the task has finished (returned, thrown or been cancelled).
    public var isDone: Bool { box.finished }
    /// Whether the task ended by cancellation.
    public var isCancelled: Bool { box.finished && box.outcome == .cancelled }

    /// Waits for the task and returns its value or rethrows its error (asyncio's `await task`).
    public var value: Value {
        get async throws {
            if !box.finished { try await loop.awaitCompletion(of: [box], relayHops: 0) }
            return try result.result!.get()
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
