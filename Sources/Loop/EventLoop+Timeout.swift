import Trace

/// Raised by ``EventLoop/waitFor(_:timeout:)`` when the time is up (asyncio's `TimeoutError`).
public struct TimeoutError: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "timed out" }
}

extension EventLoop {
    /// asyncio's `wait_for`: runs `task` and waits for it at most `timeout` seconds. When the time
    /// is up, the task is cancelled (``CancelledError`` is thrown into it at its suspension
    /// point, so it runs its clean-up), `waitFor` waits until it has ended, then throws
    /// ``TimeoutError``.
    nonisolated(nonsending) public func waitFor<Value: Sendable>(_ task: LoopTask<Value>, timeout: Double) async throws -> Value {
        let waiter = currentTask
        // The timer is the loop's plumbing, named with a leading underscore as asyncio's own
        // (`_release_waiter`), so the schedule leaves it out as CPython's tracer does.
        var timedOut = false
        let timer = callLater(timeout, "_wait_for_timeout") { [unowned self] in
            guard waiter.continuation != nil, waiter.suspendReason == .children else { return }
            timedOut = true
            makeReady(waiter, generation: waiter.waitGeneration, cause: .timer, waker: .none)
        }
        defer { timer.cancel() }
        do {
            try await awaitCompletion(of: [task.box], relayHops: 1)
        } catch let error as CancelledError {
            task.cancel()
            throw error
        }
        if task.isDone || !timedOut { return try await task.value }
        task.cancel()
        try await awaitCompletion(of: [task.box], relayHops: 1)
        do {
            return try await task.value
        } catch is CancelledError {
            throw TimeoutError()
        }
    }
}
