import Trace

/// asyncio's `Lock`: one holder at a time; waiters get it in the order they asked (FIFO).
/// Use it on the loop thread. `@unchecked Sendable`: tasks capture it, but every method is
/// loop-only (checked in debug builds), so its state is never touched from two threads.
public final class Lock: @unchecked Sendable {
    private unowned let loop: EventLoop
    /// The lock's id in the trace (`Lock#1`).
    public let id: EntityID
    /// Whether a task holds the lock. Loop-only, as every read here (checked in debug builds).
    public var isLocked: Bool {
        loop.assertInLoop()
        return locked
    }
    private var locked = false
    private let waiters = WaiterList()

    public init(loop: EventLoop) {
        self.loop = loop
        self.id = loop.primitiveID("Lock")
        loop.registerProbe(id) { [weak self] in self.map { $0.locked ? 1 : 0 } }
    }

    /// Takes the lock, waiting (FIFO) while another task holds it.
    /// - Throws: ``CancelledError`` if the task is cancelled while it waits.
    nonisolated(nonsending) public func acquire() async throws {
        loop.assertInLoop()
        if !locked && !waiters.hasLiveWaiter {
            locked = true
            loop.noteAcquired(id, value: 0)
            return
        }
        try await loop.waitInLine(waiters, on: id) { _ in
            // Cancelled: if the lock is free (it may have been handed to us), the next in line gets it.
            if !locked { waiters.wakeFirst(on: loop, via: id) }
        }
        locked = true
        loop.noteAcquired(id, value: 0)
    }

    /// Releases the lock and wakes the first waiter. Releasing an unlocked lock is a bug.
    public func release() {
        loop.assertInLoop()
        precondition(locked, "release() of an unlocked Lock")
        locked = false
        loop.noteReleased(id, value: 1)
        waiters.wakeFirst(on: loop, via: id)
    }

    /// `async with lock:` — holds the lock while `body` runs, releases it however body ends.
    nonisolated(nonsending) public func withLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        loop.assertInLoop()
        try await acquire()
        defer { release() }
        return try await body()
    }
}
