import DequeModule
import Trace

/// asyncio's `Queue`: FIFO, optionally bounded. `put` waits while it is full, `get` while it is
/// empty; each wakes the next waiter on the other side. Use it on the loop thread. `@unchecked Sendable`: tasks capture
/// it, but every method is loop-only (checked in debug builds).
public final class Queue<Element>: @unchecked Sendable {
    private unowned let loop: EventLoop
    /// The queue's id in the trace (`Queue#1`).
    public let id: EntityID
    /// What a producer waits for (`Queue#1 not full`) and a consumer (`Queue#1 not empty`).
    private let notFull: EntityID
    private let notEmpty: EntityID
    /// 0: unbounded.
    public let maxsize: Int
    private var items = Deque<Element>()
    private let getters = WaiterList()
    private let putters = WaiterList()

    public init(loop: EventLoop, maxsize: Int = 0) {
        self.loop = loop
        self.maxsize = max(0, maxsize)
        self.id = loop.primitiveID("Queue")
        let name = loop.names.name(id)
        notFull = loop.names.intern("\(name) not full", kind: .primitive)
        notEmpty = loop.names.intern("\(name) not empty", kind: .primitive)
        loop.registerProbe(id) { [weak self] in self?.items.count }
    }

    // Loop-only reads too: the items change on the loop thread (checked in debug builds).
    public var count: Int {
        loop.assertInLoop()
        return items.count
    }
    public var isEmpty: Bool {
        loop.assertInLoop()
        return items.isEmpty
    }
    public var isFull: Bool {
        loop.assertInLoop()
        return full
    }
    private var full: Bool { maxsize > 0 && items.count >= maxsize }

    /// Adds `item`, waiting while the queue is full.
    /// - Throws: ``CancelledError`` if the task is cancelled while it waits.
    nonisolated(nonsending) public func put(_ item: Element) async throws {
        loop.assertInLoop()
        while full {
            try await loop.waitInLine(putters, on: notFull) { wasWoken in
                // Woken for a free slot, then cancelled: the slot goes to the next producer.
                if wasWoken && !full { putters.popAndWakeNext(on: loop, via: notFull) }
            }
        }
        putNowait(item)
    }

    /// Adds `item` at once. The queue must not be full.
    public func putNowait(_ item: Element) {
        loop.assertInLoop()
        precondition(!full, "putNowait on a full Queue")
        items.append(item)
        loop.noteQueueSize(id, items.count)
        getters.popAndWakeNext(on: loop, via: notEmpty)
    }

    /// Takes the oldest item, waiting while the queue is empty.
    /// - Throws: ``CancelledError`` if the task is cancelled while it waits.
    nonisolated(nonsending) public func get() async throws -> Element {
        loop.assertInLoop()
        while items.isEmpty {
            try await loop.waitInLine(getters, on: notEmpty) { wasWoken in
                // Woken for an item, then cancelled: the item goes to the next consumer.
                if wasWoken && !items.isEmpty { getters.popAndWakeNext(on: loop, via: notEmpty) }
            }
        }
        return getNowait()!
    }

    /// Takes the oldest item at once, or nil when the queue is empty.
    public func getNowait() -> Element? {
        loop.assertInLoop()
        guard let item = items.popFirst() else { return nil }
        loop.noteQueueSize(id, items.count)
        putters.popAndWakeNext(on: loop, via: notFull)
        return item
    }
}
