import Testing
import Trace
@testable import Loop

/// The loop's ready queue: a ring buffer, FIFO through wrap-around, growth and shrinking, and
/// owning what it holds.
struct ReadyQueueTests {
    /// A callback item that says its number, and the number read back from an item.
    private func item(_ number: Int) -> ReadyItem {
        .callback(CallbackBox(name: "\(number)", origin: .soon, body: {}))
    }

    private func number(_ item: ReadyItem?) -> Int? {
        guard case .callback(let box)? = item else { return nil }
        return Int(box.name)
    }

    @Test func itKeepsOrderThroughWrapAroundAndGrowth() {
        var queue = ReadyQueue()
        var expected: [Int] = []
        var taken: [Int] = []
        var next = 0
        // Appends and takes interleaved so that the head wraps before and after each growth.
        for round in 0..<40 {
            for _ in 0..<(round % 7 + 3) {
                queue.append(item(next))
                expected.append(next)
                next += 1
            }
            for _ in 0..<(round % 5 + 1) {
                if let value = number(queue.popFirst()) { taken.append(value) }
            }
        }
        while let value = number(queue.popFirst()) { taken.append(value) }
        let (isEmpty, capacity) = (queue.isEmpty, queue.capacity)
        #expect(taken == expected)
        #expect(isEmpty)
        #expect(capacity > ReadyQueue.initialCapacity)
    }

    @Test func forEachGoesFrontToBackAcrossTheWrap() {
        var queue = ReadyQueue()
        for value in 0..<12 { queue.append(item(value)) }
        for _ in 0..<10 { _ = queue.popFirst() }
        for value in 12..<20 { queue.append(item(value)) }  // wraps past the end of the storage
        var seen: [Int] = []
        queue.forEach { seen.append(number($0) ?? -1) }
        let capacity = queue.capacity
        #expect(seen == Array(10..<20))
        #expect(capacity == ReadyQueue.initialCapacity)
    }

    @Test func shrinkingKeepsTheItemsInOrderAcrossTheWrap() {
        var queue = ReadyQueue()
        for value in 0..<8_000 { queue.append(item(value)) }  // capacity 8,192
        for _ in 0..<7_995 { _ = queue.popFirst() }
        for value in 8_000..<8_200 { queue.append(item(value)) }  // the last 8 wrap to the start
        let grown = queue.capacity
        queue.resize(to: ReadyQueue.fittingCapacity(queue.count))
        let capacity = queue.capacity
        #expect(grown == 8_192)
        #expect(capacity == 256)
        var seen: [Int] = []
        while let value = number(queue.popFirst()) { seen.append(value) }
        #expect(seen == Array(7_995..<8_200))
    }

    @Test func theQueueOwnsItsItemsAndReleasesThemWhenItGoes() {
        weak var taken: CallbackBox?
        weak var left: CallbackBox?
        do {
            var queue = ReadyQueue()
            let first = CallbackBox(name: "taken", origin: .soon, body: {})
            let second = CallbackBox(name: "left", origin: .soon, body: {})
            taken = first
            left = second
            queue.append(.callback(first))
            queue.append(.callback(second))
            _ = queue.popFirst()
        }
        #expect(taken == nil)
        #expect(left == nil)
    }

    /// A task's `.resume` items and `current` do not retain its box: the task table does. A task
    /// nobody else holds finishes in a slice the loop resumed, and its box goes with it.
    @Test func aTaskHeldOnlyByTheLoopIsFreedWhenItFinishes() throws {
        let orphan = WeakTask()
        let loop = EventLoop(clock: VirtualClock())
        try loop.run {
            do {
                let task = loop.spawn("orphan") {
                    try await loop.sleep(0)
                    try await loop.sleep(0)
                }
                orphan.box = task.box
            }
            for _ in 0..<5 { try await loop.sleep(0) }
            #expect(orphan.box == nil)
        }
    }

    /// The same for a task whose last slice comes through the runtime (`Task.yield` enqueues a
    /// job, not one of the loop's resumptions) ...
    @Test func aTaskEndingThroughARuntimeJobIsFreed() throws {
        let orphan = WeakTask()
        let loop = EventLoop(clock: VirtualClock())
        try loop.run {
            do {
                let task = loop.spawn("orphan") { await Task.yield() }
                orphan.box = task.box
            }
            for _ in 0..<5 { try await loop.sleep(0) }
            #expect(orphan.box == nil)
        }
    }

    /// ... and for one cancelled while its resumption waits in the queue: it resumes throwing,
    /// ends, and goes.
    @Test func aTaskCancelledWhileItsResumptionIsQueuedIsFreed() throws {
        let orphan = WeakTask()
        let outcome = OutcomeBox()
        let loop = EventLoop(clock: VirtualClock())
        try loop.run {
            do {
                let task = loop.spawn("orphan") {
                    do { try await loop.sleep(0) } catch { outcome.cancelled = error is CancelledError; throw error }
                }
                orphan.box = task.box
                try await loop.sleep(0)  // the orphan's first slice: it yields, its resumption queued
                #expect(task.box.resumeQueued)
                task.cancel()
            }
            for _ in 0..<5 { try await loop.sleep(0) }
            #expect(orphan.box == nil)
        }
        #expect(outcome.cancelled)
    }
}

/// Whether the orphan's sleep threw ``CancelledError``. `@unchecked Sendable`: one thread.
private final class OutcomeBox: @unchecked Sendable {
    var cancelled = false
}

/// A weak reference the loop's tasks can share. `@unchecked Sendable`: the loop's tasks run on
/// its one thread.
private final class WeakTask: @unchecked Sendable {
    weak var box: TaskBox?
}
