import Foundation

/// The recording format: text, one line per entry, so a person can read it and a run killed at
/// any moment leaves a file whose complete lines replay.
///
///     loopviz-trace 1
///     M {"scenario":"count","clock":"virtual"}
///     N 1 task "main"
///     R 0 taskSpawned 1 0 0 0 ready
///     ...
///     E 42 0
///
/// `N id kind "name"` declares a name (ids in order, each before its first use); `R time kind
/// subject other value detail state` is one ``TraceRecord``; `E records dropped` closes a
/// complete recording (a killed run has none).
public enum TraceFile {
    public static let magic = "loopviz-trace"
    public static let version = 1
    /// Longest line a reader accepts: a name or an output line longer than this is corrupt.
    public static let maximumLineLength = 1 << 20

    /// What a recording holds.
    public struct Contents: Sendable {
        public var meta: [String: String]
        public var names: NameTable
        public var records: [TraceRecord]
        /// False when the file has no end line (the run was cut short) or was salvaged.
        public var complete: Bool
        public var dropped: Int
    }

    public static func line(for record: TraceRecord) -> String {
        "R \(record.time) \(record.kind.wireName) \(record.subject.rawValue) \(record.other.rawValue) \(record.value) \(record.detail) \(record.state.wireName)\n"
    }

    public static func line(forName id: Int, _ entry: NameTable.Entry) -> String {
        "N \(id) \(entry.kind.wireName) \(jsonString(entry.name))\n"
    }

    /// `text` as a JSON string literal, quotes included.
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}

/// Writes a recording while the run goes on, from the reader side of the ring (never the loop
/// thread). Each batch is written with one `write(2)`, so what is on disk is whole lines up to
/// the last batch, whatever happens to the process afterwards.
/// `@unchecked Sendable`: it is created on one thread and then used by one thread at a time (the
/// reader's, then the owner's after the reader stopped): never concurrently.
public final class TraceFileWriter: @unchecked Sendable {
    private let fd: Int32
    private let names: NameTable
    private var namesWritten = 1  // id 0 is the built-in "nobody"
    private var buffer = ""
    private var recordCount = 0
    public let path: String
    /// Bytes written so far.
    public private(set) var bytesWritten = 0

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, names: NameTable, meta: [String: String]) throws {
        self.path = path
        self.names = names
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TraceFileError(path: path, line: nil, message: String(cString: strerror(errno))) }
        let metaJSON = meta.sorted { $0.key < $1.key }.map { "\(TraceFile.jsonString($0.key)):\(TraceFile.jsonString($0.value))" }
        buffer = "\(TraceFile.magic) \(TraceFile.version)\nM {\(metaJSON.joined(separator: ","))}\n"
        try flush()
    }

    deinit { close(fd) }

    /// Buffers a batch of records, preceded by every name interned so far: a record's names are
    /// interned before the record is written to the ring, so they are all in the table by the
    /// time the batch was drained. Call ``flush()`` after.
    public func append(_ records: [TraceRecord]) {
        writeNames()
        for record in records { buffer += TraceFile.line(for: record) }
        recordCount += records.count
    }

    /// Writes what is buffered.
    public func flush() throws {
        guard !buffer.isEmpty else { return }
        let data = Array(buffer.utf8)
        buffer = ""
        var offset = 0
        while offset < data.count {
            let written = data[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw TraceFileError(path: path, line: nil, message: String(cString: strerror(errno)))
            }
            offset += written
        }
        bytesWritten += data.count
    }

    /// Writes the end line: the recording is complete.
    public func finish(dropped: Int) throws {
        writeNames()
        buffer += "E \(recordCount) \(dropped)\n"
        try flush()
    }

    private func writeNames() {
        for entry in names.entries(from: namesWritten) {
            buffer += TraceFile.line(forName: namesWritten, entry)
            namesWritten += 1
        }
    }
}

/// A recording that cannot be read: where and why, in one line.
public struct TraceFileError: Error, Equatable, CustomStringConvertible {
    public var path: String
    public var line: Int?
    public var message: String

    public init(path: String, line: Int?, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        line.map { "\(path): line \($0): \(message)" } ?? "\(path): \(message)"
    }
}
