import Trace

/// asyncio's `Semaphore`: at most `value` holders at once; waiters are admitted in the order
/// they arrived. Use it on the loop thread. `@unchecked Sendable`: tasks capture it, but every
/// method is loop-only (checked in debug builds).
public final class Semaphore: @unchecked Sendable {
    private unowned let loop: EventLoop
    /// The semaphore's id in the trace (`Semaphore#1`).
    public let id: EntityID
    /// Free places now. Loop-only, as every read here (checked in debug builds).
    public var value: Int {
        loop.assertInLoop()
        return places
    }
    private var places: Int
    private let waiters = WaiterList()

    public init(loop: EventLoop, value: Int = 1) {
        precondition(value >= 0, "Semaphore initial value must be >= 0")
        self.loop = loop
        self.places = value
        self.id = loop.primitiveID("Semaphore")
        loop.registerProbe(id) { [weak self] in self.map { value - $0.places } }
    }

    /// No place is free, or someone is already waiting for one.
    public var isLocked: Bool {
        loop.assertInLoop()
        return locked
    }
    private var locked: Bool { places == 0 || waiters.hasLiveWaiter }

    /// Takes a place, waiting while none is free.
    /// - Throws: ``CancelledError`` if the task is cancelled while it waits.
    nonisolated(nonsending) public func acquire() async throws {
        loop.assertInLoop()
        if !locked {
            places -= 1
            loop.noteAcquired(id, value: places)
            return
        }
        try await loop.waitInLine(waiters, on: id) { wasWoken in
            guard wasWoken else { return }
            // Cancelled after a place was given to us: it goes to the next in line.
            places += 1
            wakeNext()
        }
        // Its place was taken for it when it was woken (wakeNext), and noted then.
        if places > 0 { wakeNext() }
    }

    /// Gives a place back and admits the next waiter.
    public func release() {
        loop.assertInLoop()
        places += 1
        loop.noteReleased(id, value: places)
        wakeNext()
    }

    /// `async with semaphore:` — holds a place while `body` runs.
    nonisolated(nonsending) public func withPermit<Value>(_ body: () async throws -> Value) async throws -> Value {
        loop.assertInLoop()
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func wakeNext() {
        // The woken waiter's place is taken on its behalf, as asyncio's _wake_up_next does: from
        // now on it holds it (the trace and the state panel say so), though it runs later.
        if let woken = waiters.wakeNext(on: loop, via: id) {
            places -= 1
            loop.noteAcquired(id, value: places, by: woken)
        }
    }
}
