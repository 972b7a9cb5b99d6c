import Trace

/// asyncio's `Lock`: one holder at a time; waiters get it in the order they asked (FIFO).
/// Use it on the loop thread.
public final class Lock: @unchecked Sendable {
    private unowned let loop: EventLoop
    /// The lock's id in the trace (`Lock#1`).
    public let id: EntityID
    public private(set) var isLocked = false
    private var waiters = WaiterList()

    public init(loop: EventLoop) {
        self.loop = loop
        self.id = loop.primitiveID("Lock")
    }

    /// Takes the lock, waiting (FIFO) while another task holds it.
    /// - Throws: ``CancelledError`` if the task is cancelled while it waits.
    nonisolated(nonsending) public func acquire() async throws {
        if !isLocked && !waiters.hasLiveWaiter {
            isLocked = true
            return
        }
        let box = loop.currentTask
        do {
            try await loop.suspendCurrentTask(.primitive, waitingOn: id) { box, generation in
                waiters.append(box, generation: generation)
            }
            waiters.remove(box)
        } catch {
            waiters.remove(box)
            // Woken and cancelled at once: pass the turn on, as asyncio does.
            if !isLocked { waiters.wakeFirst(on: loop, via: id) }
            throw error
        }
        isLocked = true
    }

    /// Releases the lock and wakes the first waiter. Releasing an unlocked lock is a bug.
    public func release() {
        precondition(isLocked, "release() of an unlocked Lock")
        isLocked = false
        waiters.wakeFirst(on: loop, via: id)
    }

    /// `async with lock:` — holds the lock while `body` runs, releases it however body ends.
    nonisolated(nonsending) public func withLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
