import Trace

/// The history's records, packed into 20 bytes each instead of a ``TraceRecord``'s 32: the
/// viewer keeps millions of them (issue 13's budget is 32 bytes an event for the whole history,
/// lanes and steps included), and most of a record's 64-bit fields hold small numbers.
///
/// Records live in chunks of up to ``chunkCapacity``, column by column. A chunk stores each
/// time as a 32-bit offset from its first record's time (a record more than ~2.1 s away starts
/// a new chunk), and each value raw when it fits 32 bits, else as an offset from the record's
/// own time (deadlines, which are near "now"), else in a side list of wide values. Reading a
/// record puts the fields back together: O(1) when chunks are full (the usual case), O(log
/// chunks) otherwise. Appending is amortized O(1); dropping the oldest records frees whole
/// chunks. A value type: copies share chunks until one of them changes.
public struct RecordStore: RandomAccessCollection, Sendable {
    public static let chunkCapacity = 4096

    /// How a chunk keeps one record's `value`, in the top byte of its code.
    enum ValueForm: UInt32 {
        case raw = 0, fromTime = 1, wide = 2
    }

    struct Chunk: Sendable {
        /// Index (counted since the store began) of the chunk's first record.
        var firstIndex: Int
        var baseTime: Int64
        var times: [Int32] = []
        var values: [Int32] = []
        var subjects: [UInt32] = []
        var others: [UInt32] = []
        /// kind | detail << 8 | state << 16 | value form << 24.
        var codes: [UInt32] = []
        var wideValues: [Int64] = []

        var count: Int { codes.count }

        /// Room for `record`: not full, and its time within reach of the base.
        func fits(_ record: TraceRecord) -> Bool {
            let (offset, overflow) = record.time.subtractingReportingOverflow(baseTime)
            return count < RecordStore.chunkCapacity && !overflow && Int32(exactly: offset) != nil
        }

        mutating func append(_ record: TraceRecord) {
            if count == codes.capacity {
                // Double up to a full chunk, never past it: a chunk's columns hold no slack.
                let room = Swift.min(RecordStore.chunkCapacity, Swift.max(16, count * 2))
                times.reserveCapacity(room); values.reserveCapacity(room); subjects.reserveCapacity(room)
                others.reserveCapacity(room); codes.reserveCapacity(room)
            }
            times.append(Int32(truncatingIfNeeded: record.time &- baseTime))
            subjects.append(record.subject.rawValue)
            others.append(record.other.rawValue)
            let form: ValueForm
            if let raw = Int32(exactly: record.value) {
                form = .raw
                values.append(raw)
            } else if record.value.subtractingReportingOverflow(record.time).overflow == false,
                      let offset = Int32(exactly: record.value - record.time) {
                form = .fromTime
                values.append(offset)
            } else {
                form = .wide
                values.append(Int32(truncatingIfNeeded: wideValues.count))
                wideValues.append(record.value)
            }
            codes.append(UInt32(record.kind.rawValue) | UInt32(record.detail) << 8 | UInt32(record.state.rawValue) << 16
                         | form.rawValue << 24)
        }

        func record(at offset: Int) -> TraceRecord {
            let code = codes[offset]
            let time = baseTime &+ Int64(times[offset])
            let stored = values[offset]
            let value: Int64 = switch ValueForm(rawValue: code >> 24) {
            case .fromTime: time &+ Int64(stored)
            case .wide: wideValues[Int(stored)]
            case .raw, nil: Int64(stored)
            }
            // The kind and state were valid enums when they were stored.
            return TraceRecord(time: time, kind: TraceKind(rawValue: UInt8(truncatingIfNeeded: code))!,
                               subject: EntityID(rawValue: subjects[offset]), other: EntityID(rawValue: others[offset]),
                               value: value, detail: UInt8(truncatingIfNeeded: code >> 8),
                               state: TaskState(rawValue: UInt8(truncatingIfNeeded: code >> 16))!)
        }

        /// A sealed chunk gives back what it reserved and did not use.
        mutating func shrink() {
            guard codes.capacity > count else { return }
            times = Array(times); values = Array(values); subjects = Array(subjects)
            others = Array(others); codes = Array(codes); wideValues = Array(wideValues)
        }

        var bytes: Int {
            times.capacity * 4 + values.capacity * 4 + subjects.capacity * 4 + others.capacity * 4 + codes.capacity * 4
                + wideValues.capacity * 8 + MemoryLayout<Chunk>.stride
        }
    }

    private(set) var chunks: [Chunk] = []
    /// Records dropped from the front, counted since the store began: local index 0 is record
    /// number `dropped`.
    private var dropped = 0
    /// Records appended since the store began.
    private var appended = 0

    public init() {}

    public init<Records: Sequence>(_ records: Records) where Records.Element == TraceRecord {
        for record in records { append(record) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { appended - dropped }

    public subscript(position: Int) -> TraceRecord {
        precondition(position >= 0 && position < endIndex, "record index out of range")
        let absolute = dropped + position
        let chunk = chunkIndex(of: absolute)
        return chunks[chunk].record(at: absolute - chunks[chunk].firstIndex)
    }

    /// The chunk holding record number `absolute`: a guess that is right while chunks are full,
    /// else a binary search.
    private func chunkIndex(of absolute: Int) -> Int {
        let guess = (absolute - chunks[0].firstIndex) / Self.chunkCapacity
        if guess < chunks.count, chunks[guess].firstIndex <= absolute, absolute < chunks[guess].firstIndex + chunks[guess].count {
            return guess
        }
        var low = 0, high = chunks.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if chunks[mid].firstIndex <= absolute { low = mid } else { high = mid - 1 }
        }
        return low
    }

    public mutating func append(_ record: TraceRecord) {
        if chunks.isEmpty || !chunks[chunks.count - 1].fits(record) {
            if !chunks.isEmpty { chunks[chunks.count - 1].shrink() }
            chunks.append(Chunk(firstIndex: appended, baseTime: record.time))
        }
        chunks[chunks.count - 1].append(record)
        appended += 1
    }

    /// Drops the oldest `count` records; chunks that hold none of the rest are freed.
    public mutating func removeFirst(_ count: Int) {
        precondition(count >= 0 && count <= self.count, "cannot drop more records than the store holds")
        dropped += count
        let gone = chunks.prefix { $0.firstIndex + $0.count <= dropped }.count
        chunks.removeFirst(gone)
    }

    /// Bytes the store holds (its columns' capacities, chunk headers included).
    public var approximateBytes: Int {
        chunks.reduce(0) { $0 + $1.bytes } + chunks.capacity * MemoryLayout<Chunk>.stride
    }

    /// A sequential reader that walks the chunks instead of locating each record.
    public struct Iterator: IteratorProtocol {
        let store: RecordStore
        var chunk: Int
        var offset: Int
        var remaining: Int

        public mutating func next() -> TraceRecord? {
            guard remaining > 0 else { return nil }
            while offset >= store.chunks[chunk].count {
                chunk += 1
                offset = 0
            }
            remaining -= 1
            defer { offset += 1 }
            return store.chunks[chunk].record(at: offset)
        }
    }

    public func makeIterator() -> Iterator {
        guard !isEmpty else { return Iterator(store: self, chunk: 0, offset: 0, remaining: 0) }
        let chunk = chunkIndex(of: dropped)
        return Iterator(store: self, chunk: chunk, offset: dropped - chunks[chunk].firstIndex, remaining: count)
    }
}
