import Loop
import Testing
import Trace

/// Lock, Semaphore, Queue and waitFor on virtual time, beyond the shipped scenarios.
@Suite("Primitives")
struct PrimitiveTests {
    @Test func aCancelledLockWaiterPassesItsTurnOn() throws {
        var run = VirtualRun()
        try run.run { loop in
            let lock = Lock(loop: loop)
            try await lock.acquire()
            let first = loop.spawn("first") { try await lock.withLock { loop.print("first got it") } }
            let second = loop.spawn("second") { try await lock.withLock { loop.print("second got it") } }
            try await loop.sleep(0)  // both wait now
            first.cancel()
            lock.release()
            _ = try? await first.value
            try await second.value
            #expect(!lock.isLocked)
        }
        #expect(run.output == ["second got it"])
    }

    @Test func aLockReleasedToAWaiterIsNotTakenByANewcomer() throws {
        var run = VirtualRun()
        try run.run { loop in
            let lock = Lock(loop: loop)
            try await lock.acquire()
            let waiter = loop.spawn("waiter") { try await lock.withLock { loop.print("waiter") } }
            try await loop.sleep(0)
            lock.release()  // waiter is woken, not yet running
            let newcomer = loop.spawn("newcomer") { try await lock.withLock { loop.print("newcomer") } }
            _ = try await loop.gather([waiter, newcomer])
        }
        #expect(run.output == ["waiter", "newcomer"])
    }

    @Test func aSemaphoreNeverAdmitsMoreThanItsValue() throws {
        var run = VirtualRun()
        let peak = try run.run { loop -> Int in
            let semaphore = Semaphore(loop: loop, value: 3)
            let inside = Counter()
            let tasks = (0..<10).map { index in
                loop.spawn("job") {
                    try await semaphore.withPermit {
                        inside.now += 1
                        inside.peak = max(inside.peak, inside.now)
                        try await loop.sleep(Double(index % 3 + 1) * 0.1)
                        inside.now -= 1
                    }
                }
            }
            _ = try await loop.gather(tasks)
            #expect(semaphore.value == 3)
            return inside.peak
        }
        #expect(peak == 3)
    }

    @Test func aQueueHandsItemsOverInOrderAndBlocksBothWays() throws {
        var run = VirtualRun()
        let received = try run.run { loop -> [Int] in
            let queue = Queue<Int>(loop: loop, maxsize: 1)
            let producer = loop.spawn("producer") {
                for item in 1...4 { try await queue.put(item) }
            }
            let consumer = loop.spawn("consumer") { () -> [Int] in
                var items: [Int] = []
                for _ in 1...4 {
                    items.append(try await queue.get())
                    try await loop.sleep(0.1)
                }
                return items
            }
            try await producer.value
            return try await consumer.value
        }
        #expect(received == [1, 2, 3, 4])
        let waits = run.records.filter { $0.kind == .taskSuspended && $0.detail(as: SuspendReason.self) == .primitive }
        #expect(waits.map { run.loop.names.name($0.other) }.contains("Queue#1 not full"))
    }

    @Test func anItemHandedToACancelledConsumerGoesToTheNextOne() throws {
        var run = VirtualRun()
        try run.run { loop in
            let queue = Queue<String>(loop: loop)
            let first = loop.spawn("first") { loop.print("first got \(try await queue.get())") }
            let second = loop.spawn("second") { loop.print("second got \(try await queue.get())") }
            try await loop.sleep(0)  // both wait on the empty queue
            queue.putNowait("item")  // wakes first...
            first.cancel()  // ...which is cancelled before it runs
            _ = try? await first.value
            try await second.value
        }
        #expect(run.output == ["second got item"])
    }

    @Test func waitForReturnsTheValueWhenInTimeAndCancelsWhenLate() throws {
        var run = VirtualRun()
        try run.run { loop in
            let quick = loop.spawn("quick") { () -> Int in
                try await loop.sleep(0.1)
                return 7
            }
            let value = try await loop.waitFor(quick, timeout: 1)
            #expect(value == 7)
            let slow = loop.spawn("slow") { () -> Int in
                try await loop.sleep(5)
                return 0
            }
            await #expect(throws: TimeoutError.self) { try await loop.waitFor(slow, timeout: 0.5) }
            #expect(slow.isCancelled)
            loop.print("done at \(loop.time)")
        }
        #expect(run.output == ["done at 0.6"])
        // The internal timeout timer is plumbing: not in the schedule, like CPython's _release_waiter.
        #expect(!run.scheduleKindsAndNames.contains { $0.contains("_wait_for") })
    }
}

/// `@unchecked Sendable`: used by tasks of one loop, on its thread only.
final class Counter: @unchecked Sendable {
    var now = 0
    var peak = 0
}
