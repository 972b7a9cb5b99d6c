import Foundation
import Loop
import Trace

/// Runs a program on a fresh loop with the virtual clock and keeps what it did: the output
/// lines, every trace record and the schedule.
struct VirtualRun {
    let loop: EventLoop
    let ring: TraceRing
    private(set) var output: [String] = []
    private(set) var records: [TraceRecord] = []

    init(capacity: Int = 1 << 14) {
        ring = TraceRing(capacity: capacity)
        loop = EventLoop(clock: VirtualClock(), ring: ring)
    }

    /// Runs `body` as `main`; returns its value or rethrows. Records are collected either way.
    mutating func run<Value: Sendable>(_ body: @escaping @Sendable (EventLoop) async throws -> Value) throws -> Value {
        let lines = LineCollector()
        loop.onOutput = { line, _ in lines.append(line) }
        let loop = self.loop
        defer {
            output = lines.lines
            ring.drain { records.append($0) }
        }
        return try loop.run { try await body(loop) }
    }

    /// The schedule as `kind name` lines (no timestamps).
    var scheduleKindsAndNames: [String] {
        ScheduleFormat.lines(records, names: loop.names).map(\.kindAndName)
    }

    /// The schedule with timestamps.
    var schedule: [String] {
        ScheduleFormat.lines(records, names: loop.names).map(\.description)
    }

    /// Records of one kind, as `kind subject` strings, for exact sequence checks.
    func trace(_ kinds: Set<TraceKind>? = nil) -> [String] {
        records.filter { kinds?.contains($0.kind) ?? true }.map { "\($0.kind) \(loop.names.name($0.subject))" }
    }
}

/// `@unchecked Sendable`: appended to on the loop thread, read after the run returned.
final class LineCollector: @unchecked Sendable {
    private(set) var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}

/// A CPython fixture from `Tests/Fixtures/cpython`.
enum CPythonFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/cpython")

    static func output(_ program: String) throws -> [String] {
        try lines(directory.appendingPathComponent("\(program).output"))
    }

    /// `kind name` per line, timestamps dropped.
    static func scheduleKindsAndNames(_ program: String) throws -> [String] {
        try lines(directory.appendingPathComponent("\(program).schedule")).map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
    }

    /// Timestamps in seconds, per line.
    static func scheduleTimes(_ program: String) throws -> [Double] {
        try lines(directory.appendingPathComponent("\(program).schedule")).map { Double($0.split(separator: " ")[0])! }
    }

    private static func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }
}
