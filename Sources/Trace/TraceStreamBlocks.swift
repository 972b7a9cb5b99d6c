/// Binary record blocks: the compact form a live stream may use for its records when text costs
/// the producer too much (the CPython module: formatting a line costs it more than the step it
/// describes). A stream that uses them first declares its code tables —
///
///     K taskSpawned taskReady taskResumed ...     (record kind wire names; code = position)
///     S unknown ready running ...                 (task state wire names; code = position)
///
/// — and `T base` lines, then sends `B count` lines, each followed by `count` records of four
/// little-endian Int64: time, `kind | state << 8 | detail << 16`, `subject | other << 32`, value.
/// The kind table may also name `switched`, which is not a record kind but two records in one: a
/// task's step ended in a yield (`taskSuspended`, ready) and the next task's step began
/// (`taskResumed`, running), at the same moment — `subject | next << 32` — what the CPython module
/// sends for most switches, at half the cost of two records. A block's time is the producer's clock; the record's time is that less the base of the last
/// `T` line (the producer moves its base when its loop time stops or jumps, and need not
/// subtract on every record). Records in blocks are checked exactly as record lines are.
/// Recordings on disk stay text.
extension TraceFile.Parser {
    /// Most records one block may hold (a block is read whole before it is parsed).
    static let maximumBlockRecords = 1 << 16
    /// The kind table's name for a yield and the next step's start in one block record.
    static let switchedWireName = "switched"
    static let blockRecordSize = 32

    /// A `T base` line: block times from now on are less `base`.
    mutating func timeBase(_ line: String, _ number: Int) throws {
        guard let base = Int64(line.dropFirst(2)) else { throw fail(number, "damaged time base line") }
        blockTimeBase = base
    }

    /// A `K` or `S` line: the names behind the codes of the blocks that follow.
    mutating func codes(_ line: String, _ number: Int) throws {
        let words = line.split(separator: " ").dropFirst()
        if line.hasPrefix("K ") {
            kindCodes = try words.map { word in
                if word == Self.switchedWireName { return nil }
                guard let kind = TraceKind.byWireName[String(word)] else { throw fail(number, "unknown record kind '\(word)'") }
                return kind
            }
        } else {
            stateCodes = try words.map { word in
                guard let state = TaskState.byWireName[String(word)] else { throw fail(number, "unknown task state '\(word)'") }
                return state
            }
        }
        guard kindCodes.count <= 256, stateCodes.count <= 256 else { throw fail(number, "code table longer than 256") }
    }

    /// The record count a `B count` line announces, or nil when the line is not a block header.
    static func blockCount(_ line: ArraySlice<UInt8>) -> Int? {
        guard line.count > 2, line.first == UInt8(ascii: "B"), line[line.startIndex + 1] == UInt8(ascii: " ") else { return nil }
        var count = 0
        for byte in line.dropFirst(2) {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte), count <= maximumBlockRecords else { return -1 }
            count = count * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return count
    }

    /// Parses one block's records from `bytes` (exactly `count` × 32 bytes).
    mutating func block(_ bytes: UnsafeRawBufferPointer, count: Int, _ number: Int) throws {
        guard count <= Self.maximumBlockRecords else { throw fail(number, "block of \(count) records (at most \(Self.maximumBlockRecords))") }
        guard !kindCodes.isEmpty, !stateCodes.isEmpty else { throw fail(number, "binary block before its code tables (K and S lines)") }
        records.reserveCapacity(records.count + count)
        for index in 0..<count {
            let base = index * Self.blockRecordSize
            var (time, overflow) = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: base, as: Int64.self))
                .subtractingReportingOverflow(blockTimeBase)
            guard !overflow else { throw fail(number, "damaged binary record \(index) (time out of range)") }
            // A producer with several threads (a CPython program printing from a thread) may read
            // its clock on one thread and append after another thread's later record, or record
            // from another thread while its loop is paused (before its base moves): a block's
            // record is kept at the time of the one read before it, never earlier.
            if let lastTime, time < lastTime { time = lastTime }
            let code = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self))
            let ids = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 16, as: UInt64.self))
            let value = Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: base + 24, as: Int64.self))
            let kindCode = Int(code & 0xff), stateCode = Int((code >> 8) & 0xff)
            guard code >> 24 == 0, kindCode < kindCodes.count, stateCode < stateCodes.count else {
                throw fail(number, "damaged binary record \(index) (code \(code))")
            }
            let subject = UInt32(truncatingIfNeeded: ids), other = UInt32(truncatingIfNeeded: ids >> 32)
            guard let kind = kindCodes[kindCode] else {
                // `switched`: subject yielded, other runs; no state, detail or value of its own.
                guard code >> 8 == 0, value == 0 else { throw fail(number, "damaged binary record \(index) (a switch with a value)") }
                try append(time: time, kind: .taskSuspended, subject: subject, other: 0, value: 0, detail: 0, state: .ready, number)
                try append(time: time, kind: .taskResumed, subject: other, other: 0, value: 0, detail: 0, state: .running, number)
                continue
            }
            try append(time: time, kind: kind, subject: subject, other: other, value: value,
                       detail: UInt8(truncatingIfNeeded: code >> 16), state: stateCodes[stateCode], number)
        }
    }
}
