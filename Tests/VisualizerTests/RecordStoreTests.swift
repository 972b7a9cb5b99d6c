import Testing
import Trace
@testable import Visualizer

/// The packed record store gives back exactly what went in, whatever the values.
@Suite("Record store")
struct RecordStoreTests {
    /// Times that mostly creep forward, sometimes jump by seconds or back, or sit at the
    /// extremes; values raw, near the time, or anywhere.
    static func records(_ count: Int, seed: UInt64) -> [TraceRecord] {
        var numbers = SplitMix(state: seed)
        var time: Int64 = 0
        return (0..<count).map { _ in
            switch numbers.next() % 100 {
            case 0: time = Int64(bitPattern: numbers.next())
            case 1: time = .max
            case 2: time = .min
            case 3...6: time = time &+ 3_000_000_000
            case 7: time = time &- 1_000
            default: time = time &+ Int64(numbers.next() % 50_000)
            }
            let value: Int64 = switch numbers.next() % 4 {
            case 0: Int64(numbers.next() % 1000)
            case 1: time &+ Int64(numbers.next() % 2_000_000_000)
            case 2: Int64(bitPattern: numbers.next())
            default: [Int64.min, .max, -1, Int64(Int32.max) + 1][Int(numbers.next() % 4)]
            }
            return TraceRecord(time: time, kind: TraceKind.allCases[Int(numbers.next() % UInt64(TraceKind.allCases.count))],
                               subject: EntityID(rawValue: UInt32(truncatingIfNeeded: numbers.next())),
                               other: EntityID(rawValue: UInt32(truncatingIfNeeded: numbers.next())), value: value,
                               detail: UInt8(truncatingIfNeeded: numbers.next()),
                               state: TaskState.allCases[Int(numbers.next() % UInt64(TaskState.allCases.count))])
        }
    }

    @Test func everyRecordComesBackAsItWentIn() {
        let records = Self.records(20_000, seed: 20261127)
        let store = RecordStore(records)
        #expect(store.count == records.count)
        #expect(store.chunks.count > records.count / RecordStore.chunkCapacity, "time jumps should start new chunks")
        for index in records.indices { #expect(store[index] == records[index]) }
        #expect(Array(store) == records)
    }

    @Test func droppingTheOldestKeepsIndicesLocalAndFreesChunks() {
        let records = Self.records(30_000, seed: 7)
        var store = RecordStore(records)
        let chunks = store.chunks.count
        store.removeFirst(12_345)
        #expect(store.count == records.count - 12_345)
        #expect(store.chunks.count < chunks)
        #expect(store.first == records[12_345])
        #expect(Array(store) == Array(records[12_345...]))
        #expect(Array(store[100..<200]) == Array(records[12_445..<12_545]))
        store.removeFirst(store.count)
        #expect(store.isEmpty && Array(store).isEmpty)
        store.append(records[0])
        #expect(Array(store) == [records[0]])
    }

    /// The bench's workload shape (time creeping forward, small values, sleeps' deadlines):
    /// 20 bytes a record, chunk headers included.
    @Test func aSteadyRunCostsTwentyBytesARecord() {
        var store = RecordStore()
        for index in 0..<100_000 {
            let time = Int64(index) * 300
            store.append(TraceRecord(time: time, kind: .taskSuspended, subject: EntityID(rawValue: UInt32(index % 1000)),
                                     value: index % 16 == 0 ? time + 100_000 : 0, state: .sleeping))
        }
        let perRecord = Double(store.approximateBytes) / Double(store.count)
        #expect(perRecord >= 20 && perRecord < 20.5)
    }
}
