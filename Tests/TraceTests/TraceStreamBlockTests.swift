import Foundation
import Testing
@testable import Trace

/// Binary record blocks in a live stream (what `loopviz python`'s module sends): the same records
/// as text lines, parsed whole however the socket cuts them, and checked just as strictly.
@Suite("Trace stream binary blocks")
struct TraceStreamBlockTests {
    static let header = "loopviz-trace 1\nM {\"scenario\":\"x\"}\nK taskSpawned taskResumed taskSuspended output\nS unknown ready running\nN 1 task \"main\"\nN 2 task \"child\"\n"

    /// One block record: time, kind | state << 8 | detail << 16, subject | other << 32, value.
    static func record(_ time: Int64, kind: UInt64, state: UInt64, detail: UInt64 = 0, subject: UInt64, other: UInt64 = 0, value: Int64 = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        for word in [UInt64(bitPattern: time), kind | state << 8 | detail << 16, subject | other << 32, UInt64(bitPattern: value)] {
            withUnsafeBytes(of: word.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    static func block(_ records: [[UInt8]]) -> [UInt8] {
        Array("B \(records.count)\n".utf8) + records.flatMap { $0 }
    }

    /// A stream with text lines, a block whose bytes include newlines (10 ns, subject 10…), a name
    /// line between blocks, and a text record after.
    static var sample: [UInt8] {
        Array(header.utf8)
            + block([record(10, kind: 0, state: 1, subject: 2, other: 1), record(10, kind: 1, state: 2, subject: 2)])
            + Array("N 3 text \"hi\"\n".utf8)
            + block([record(12, kind: 3, state: 0, detail: 1, subject: 2, value: 3), record(20, kind: 2, state: 1, subject: 2)])
            + Array("R 25 taskDone 2 0 0 0 done\n".utf8)
    }

    static let expected = [
        TraceRecord(time: 10, kind: .taskSpawned, subject: .init(rawValue: 2), other: .init(rawValue: 1), value: 0, detail: 0, state: .ready),
        TraceRecord(time: 10, kind: .taskResumed, subject: .init(rawValue: 2), other: .init(rawValue: 0), value: 0, detail: 0, state: .running),
        TraceRecord(time: 12, kind: .output, subject: .init(rawValue: 2), other: .init(rawValue: 0), value: 3, detail: 1, state: .unknown),
        TraceRecord(time: 20, kind: .taskSuspended, subject: .init(rawValue: 2), other: .init(rawValue: 0), value: 0, detail: 0, state: .ready),
        TraceRecord(time: 25, kind: .taskDone, subject: .init(rawValue: 2), other: .init(rawValue: 0), value: 0, detail: 0, state: .done),
    ]

    @Test func blocksGiveTheSameRecordsAsLinesWhereverTheSocketCutsThem() throws {
        let bytes = Self.sample
        for size in [1, 3, 7, 31, 32, 33, bytes.count] {
            var stream = TraceStream(source: "test")
            var records: [TraceRecord] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                records += try stream.feed(bytes[start..<min(start + size, bytes.count)])
            }
            #expect(records == Self.expected, "cut every \(size) bytes")
            #expect(stream.names.name(.init(rawValue: 3)) == "hi")
        }
    }

    static let damaged: [(String, [UInt8])] = {
        let header: [UInt8] = Array(Self.header.utf8)
        var cases: [(String, [UInt8])] = []
        cases.append(("a block before the code tables", Array("loopviz-trace 1\nM {}\nN 1 task \"a\"\n".utf8) + block([record(1, kind: 0, state: 0, subject: 1)])))
        cases.append(("a kind code beyond the table", header + block([record(1, kind: 9, state: 0, subject: 1)])))
        cases.append(("a state code beyond the table", header + block([record(1, kind: 0, state: 7, subject: 1)])))
        cases.append(("bits above the detail", header + block([record(1, kind: 0, state: 0, detail: 1 << 9, subject: 1)])))
        cases.append(("an undeclared subject", header + block([record(1, kind: 0, state: 0, subject: 9)])))
        cases.append(("an unknown kind name", Array("loopviz-trace 1\nM {}\nK taskSpawned nonsense\n".utf8)))
        cases.append(("a count that is not a number", header + Array("B 1x\n".utf8)))
        cases.append(("a block too big", header + Array("B 99999999\n".utf8)))
        return cases
    }()

    @Test(arguments: damaged)
    func damageIsAnErrorNamingTheLine(_ what: String, bytes: [UInt8]) {
        var stream = TraceStream(source: "test")
        #expect(throws: TraceFileError.self, "\(what)") { _ = try stream.feed(bytes) }
    }

    /// Block times are the producer's clock less the last `T` base (it moves when the producer's
    /// loop time stops for a pause or jumps); text record lines carry loop time as they are.
    @Test func aTimeBaseLineShiftsTheBlocksThatFollow() throws {
        var stream = TraceStream(source: "test")
        let bytes = Array(Self.header.utf8) + Array("T 1000\n".utf8)
            + Self.block([Self.record(1_010, kind: 0, state: 1, subject: 1)])
            + Array("T 500\n".utf8) + Self.block([Self.record(1_000, kind: 1, state: 2, subject: 1)])
            + Array("R 600 taskDone 1 0 0 0 done\n".utf8)
        let records = try stream.feed(bytes)
        #expect(records.map(\.time) == [10, 500, 600])
        var early = TraceStream(source: "test")
        let before = Array(Self.header.utf8) + Array("T 1000\n".utf8) + Self.block([Self.record(10, kind: 0, state: 1, subject: 1)])
        #expect(throws: TraceFileError.self, "a time before the base is damage") { _ = try early.feed(before) }
    }

    /// `switched`, the CPython module's record for most switches: a yield and the next step's
    /// start, as the two records they stand for.
    @Test func aSwitchedRecordIsAYieldAndTheNextStepsStart() throws {
        var stream = TraceStream(source: "test")
        let header = "loopviz-trace 1\nM {}\nK taskResumed switched\nS unknown ready running\nN 1 task \"a\"\nN 2 task \"b\"\n"
        let bytes = Array(header.utf8) + Self.block([Self.record(5, kind: 0, state: 2, subject: 1), Self.record(9, kind: 1, state: 0, subject: 1, other: 2)])
        let records = try stream.feed(bytes)
        #expect(records.map(\.kind) == [.taskResumed, .taskSuspended, .taskResumed])
        #expect(records[1] == TraceRecord(time: 9, kind: .taskSuspended, subject: .init(rawValue: 1), other: .init(rawValue: 0), value: 0, detail: 0, state: .ready))
        #expect(records[2] == TraceRecord(time: 9, kind: .taskResumed, subject: .init(rawValue: 2), other: .init(rawValue: 0), value: 0, detail: 0, state: .running))
        var undeclared = TraceStream(source: "test")
        let bad = Array(header.utf8) + Self.block([Self.record(9, kind: 1, state: 0, subject: 1, other: 7)])
        #expect(throws: TraceFileError.self, "the next task must be declared too") { _ = try undeclared.feed(bad) }
        var valued = TraceStream(source: "test")
        let withValue = Array(header.utf8) + Self.block([Self.record(9, kind: 1, state: 0, subject: 1, other: 2, value: 3)])
        #expect(throws: TraceFileError.self, "a switch carries nothing else") { _ = try valued.feed(withValue) }
    }

    /// Records from a program's other threads may arrive a little behind the loop thread's: a
    /// block's record is kept at the previous record's time (text lines stay strict).
    @Test func aBlockRecordBehindThePreviousOneKeepsItsTime() throws {
        var stream = TraceStream(source: "test")
        let bytes = Array(Self.header.utf8) + Self.block([Self.record(5, kind: 0, state: 1, subject: 1), Self.record(4, kind: 1, state: 2, subject: 1)])
        #expect(try stream.feed(bytes).map(\.time) == [5, 5])
    }

    /// A block bigger than the longest line, arriving in socket-sized pieces, waits whole.
    @Test func aLargeBlockArrivingInPiecesIsRead() throws {
        var stream = TraceStream(source: "test")
        let records = (0..<40_000).map { Self.record(Int64($0), kind: 1, state: 2, subject: 1) }
        let bytes = Array(Self.header.utf8) + Self.block(records)
        var read = 0
        for start in stride(from: 0, to: bytes.count, by: 1 << 16) {
            read += try stream.feed(bytes[start..<min(start + (1 << 16), bytes.count)]).count
        }
        #expect(read == 40_000)
    }

    @Test func anIncompleteBlockWaitsForTheRestInsteadOfFailing() throws {
        var stream = TraceStream(source: "test")
        let bytes = Array(Self.header.utf8) + Self.block([Self.record(1, kind: 0, state: 1, subject: 1)])
        #expect(try stream.feed(bytes.dropLast(5)).isEmpty)
        #expect(try stream.feed(bytes.suffix(5)).count == 1)
    }

    /// Recordings on disk stay text: the file reader does not take blocks or code tables.
    @Test func aRecordingFileWithABlockIsRefused() {
        let bytes = Array(Self.header.utf8) + Self.block([Self.record(1, kind: 0, state: 1, subject: 1)])
        #expect(throws: TraceFileError.self) { _ = try TraceFile.parse(.init(bytes), path: "x") }
    }
}
