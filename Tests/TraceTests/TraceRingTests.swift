import Foundation
import Testing
@testable import Trace

@Suite("TraceRing")
struct TraceRingTests {
    private func record(_ sequence: Int) -> TraceRecord {
        TraceRecord(time: Int64(sequence), kind: .taskResumed, subject: EntityID(rawValue: 1), value: Int64(sequence))
    }

    @Test func recordIsFixedSizeAndSmall() {
        #expect(MemoryLayout<TraceRecord>.size <= 32)
        #expect(MemoryLayout<TraceRecord>.stride == 32)
    }

    @Test func capacityIsRoundedUpToAPowerOfTwo() {
        #expect(TraceRing(capacity: 1000).capacity == 1024)
        #expect(TraceRing(capacity: 1).capacity == 2)
    }

    @Test func drainsInOrderWhatWasPushed() {
        let ring = TraceRing(capacity: 8)
        for i in 0..<5 { #expect(ring.push(record(i))) }
        var seen: [Int64] = []
        #expect(ring.drain { seen.append($0.value) } == 5)
        #expect(seen == [0, 1, 2, 3, 4])
        #expect(ring.drain { _ in } == 0)
    }

    @Test func drainIntoABatchCopiesAcrossTheWrapInOrder() {
        // Five records starting at every slot of a ring of 8 (so some run past its end), taken
        // into a batch that already holds one (appended, not replaced); then a full ring at once.
        let ring = TraceRing(capacity: 8)
        var next = 0
        for phase in 0..<8 {
            var batch = [record(-1)]
            #expect(ring.drain(into: &batch) == 0 && batch.count == 1)
            for _ in 0..<5 { #expect(ring.push(record(next))); next += 1 }
            #expect(ring.drain(into: &batch) == 5)
            #expect(batch.map(\.value) == [-1] + ((next - 5)..<next).map(Int64.init))
            for _ in 0..<8 { #expect(ring.push(record(next))); next += 1 }
            var whole: [TraceRecord] = []
            #expect(ring.drain(into: &whole) == 8)
            #expect(whole.map(\.value) == ((next - 8)..<next).map(Int64.init))
            // 5 + 8 + 4 = 17 records a phase: the next phase starts one slot further on.
            for _ in 0..<4 { #expect(ring.push(record(next))); next += 1 }
            #expect(ring.drain { _ in } == 4, "phase \(phase)")
        }
        #expect(ring.dropped == 0)
    }

    @Test func theReadersPauseKeepsWholeSeconds() {
        let short = TraceReader.pauseSpec(.milliseconds(5))
        #expect(short.tv_sec == 0 && short.tv_nsec == 5_000_000)
        let long = TraceReader.pauseSpec(.milliseconds(1_500))
        #expect(long.tv_sec == 1 && long.tv_nsec == 500_000_000)
    }

    @Test func fullRingCountsDropsAndReportsThemInAGapRecord() {
        let ring = TraceRing(capacity: 4)
        for i in 0..<4 { #expect(ring.push(record(i))) }
        #expect(!ring.push(record(4)))
        #expect(!ring.push(record(5)))
        #expect(ring.dropped == 2)
        var seen: [TraceRecord] = []
        ring.drain { seen.append($0) }
        #expect(seen.map(\.value) == [0, 1, 2, 3])
        // The next record that fits is preceded by a gap saying how many were lost.
        #expect(ring.push(record(6)))
        seen.removeAll()
        ring.drain { seen.append($0) }
        #expect(seen.count == 2)
        #expect(seen[0].kind == .gap && seen[0].value == 2)
        #expect(seen[1].value == 6)
    }

    @Test func crossThreadWithRoomLosesNothingAndKeepsOrder() async {
        let total = 200_000
        let ring = TraceRing(capacity: total)
        let received = await withCheckedContinuation { (continuation: CheckedContinuation<[Int64], Never>) in
            let consumer = Thread {
                var values: [Int64] = []
                values.reserveCapacity(total)
                while values.count < total { ring.drain { values.append($0.value) } }
                continuation.resume(returning: values)
            }
            let producer = Thread { for i in 0..<total { ring.push(TraceRecord(time: 0, kind: .taskResumed, subject: .none, value: Int64(i))) } }
            consumer.start()
            producer.start()
        }
        #expect(ring.dropped == 0)
        #expect(received == (0..<Int64(total)).map { $0 })
    }

    @Test func crossThreadOverflowAccountsForEveryRecord() async {
        // A tiny ring and a producer far faster than the consumer: drops must happen, and every
        // record is either delivered in order or counted in the gap record that replaces it.
        let total = 300_000
        let ring = TraceRing(capacity: 64)
        let finished = ManagedAtomicFlag()
        let (values, gaps) = await withCheckedContinuation { (continuation: CheckedContinuation<([Int64], [(Int64, Int64)]), Never>) in
            let consumer = Thread {
                var values: [Int64] = []
                var gaps: [(Int64, Int64)] = []
                var lastValue: Int64 = -1
                func take(_ record: TraceRecord) {
                    if record.kind == .gap { gaps.append((lastValue, record.value)) } else {
                        values.append(record.value)
                        lastValue = record.value
                    }
                }
                while !finished.isSet { ring.drain(take); usleep(50) }
                ring.drain(take)
                continuation.resume(returning: (values, gaps))
            }
            let producer = Thread {
                for i in 0..<total { ring.push(TraceRecord(time: 0, kind: .taskResumed, subject: .none, value: Int64(i))) }
                // One last record, once there is room, so a trailing run of drops gets its gap.
                while ring.backlog > 0 { usleep(10) }
                ring.push(TraceRecord(time: 0, kind: .taskResumed, subject: .none, value: Int64(total)))
                finished.set()
            }
            consumer.start()
            producer.start()
        }
        let dropped = gaps.reduce(0) { $0 + $1.1 }
        #expect(dropped > 0)
        #expect(Int(dropped) == ring.dropped)
        #expect(values == values.sorted())
        // Each gap sits exactly where its records are missing.
        var gapAfter: [Int64: Int64] = [:]
        for (after, count) in gaps { gapAfter[after, default: 0] += count }
        var previous: Int64 = -1
        for value in values {
            #expect(value - previous - 1 == gapAfter[previous, default: 0])
            previous = value
        }
        #expect(Int64(values.count) + dropped == Int64(total) + 1)
        #expect(values.last == Int64(total))
    }
}

/// A set-once flag readable from another thread. `@unchecked Sendable`: the lock guards it.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
