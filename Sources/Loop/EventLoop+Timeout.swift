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
        let deadline = armTimeout(timeout)
        return try await waitFor(task, deadline: deadline)
    }

    /// asyncio's `wait_for(coro, timeout)`: as CPython 3.11 does, the timer is armed first and
    /// then `body` is wrapped in a task named `name` (so the timer's lane comes before the
    /// task's, in loopviz's pictures as in CPython's).
    nonisolated(nonsending) public func waitFor<Value: Sendable>(
        timeout: Double, name: String, _ body: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let deadline = armTimeout(timeout)
        return try await waitFor(spawn(name, body), deadline: deadline)
    }

    /// The timeout of a `waitFor`: wakes the waiting task (cause: timer) if it still waits then.
    private func armTimeout(_ timeout: Double) -> Timeout {
        let waiter = currentTask
        let state = Timeout()
        // The timer is the loop's plumbing, named with a leading underscore as asyncio's own
        // (`_release_waiter`), so the schedule leaves it out as CPython's tracer does.
        state.timer = callLater(timeout, "_wait_for_timeout") { [unowned self] in
            guard waiter.continuation != nil, waiter.suspendReason == .children else { return }
            state.timedOut = true
            makeReady(waiter, generation: waiter.waitGeneration, cause: .timer, waker: .none)
        }
        return state
    }

    nonisolated(nonsending) private func waitFor<Value: Sendable>(_ task: LoopTask<Value>, deadline: Timeout) async throws -> Value {
        defer { deadline.timer?.cancel() }
        do {
            try await awaitCompletion(of: [task.box], relayHops: 1)
        } catch let error as CancelledError {
            task.cancel()
            throw error
        }
        if task.isDone || !deadline.timedOut { return try await task.value }
        task.cancel()
        try await awaitCompletion(of: [task.box], relayHops: 1)
        do {
            return try await task.value
        } catch is CancelledError {
            throw TimeoutError()
        }
    }
}

/// A `waitFor`'s timer and whether it fired. Only the loop thread touches it (the waiting task
/// and the timer's callback both run there).
private final class Timeout: @unchecked Sendable {
    var timer: CallbackHandle?
    var timedOut = false
}
