import Trace

/// asyncio's `Event`: tasks wait until it is set; setting it wakes every waiter, in the order
/// they started waiting. Use it on the loop thread. `@unchecked Sendable`: tasks capture it,
/// but every method is loop-only (checked in debug builds).
public final class Event: @unchecked Sendable {
    private unowned let loop: EventLoop
    /// The event's id in the trace (`Event#1`).
    public let id: EntityID
    /// Whether the event is set. Loop-only, as every read here (checked in debug builds).
    public var isSet: Bool {
        loop.assertInLoop()
        return signalled
    }
    private var signalled = false
    private var waiters: [(box: TaskBox, generation: UInt32)] = []

    /// Creates an unset event on `loop`.
    public init(loop: EventLoop) {
        self.loop = loop
        self.id = loop.primitiveID("Event")
    }

    /// Returns at once if the event is set; otherwise suspends until ``set()``.
    /// - Throws: ``CancelledError`` if the waiting task is cancelled.
    nonisolated(nonsending) public func wait() async throws {
        loop.assertInLoop()
        if signalled { return }
        try await loop.suspendCurrentTask(.event, waitingOn: id) { box, generation in
            waiters.append((box, generation))
        }
    }

    /// Sets the event and makes every waiting task ready, in the order they waited. O(waiters).
    public func set() {
        loop.assertInLoop()
        guard !signalled else { return }
        signalled = true
        let woken = waiters.filter { $0.box.isWaiting(generation: $0.generation) }
        waiters.removeAll()
        loop.emit(.eventSet, subject: id, other: loop.currentActor, value: Int64(woken.count))
        for waiter in woken {
            loop.makeReady(waiter.box, generation: waiter.generation, cause: .eventSet, waker: loop.currentActor, via: id)
        }
    }

    /// Clears the event: later waiters wait again until the next ``set()``.
    public func clear() {
        loop.assertInLoop()
        guard signalled else { return }
        signalled = false
        loop.emit(.eventCleared, subject: id, other: loop.currentActor)
    }
}
