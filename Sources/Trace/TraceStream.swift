import Foundation

/// A recording read as it arrives — the live stream an attached viewer gets from a running
/// program: the same lines as a recording file (header, metadata, names, records, end), plus
/// `P` lines saying which step the loop waits at in step mode. Bytes go in as they come; whole
/// lines (and binary record blocks, see `TraceStreamBlocks.swift`) are parsed; what is wrong is one ``TraceFileError`` naming the line. Not thread-safe.
public struct TraceStream {
    private var parser: TraceFile.Parser
    private var partial: [UInt8] = []
    private var lineNumber = 0
    /// The longest line accepted: a stream that never ends a line is damage, not a big record.
    static let maximumLineLength = 1 << 20

    /// `source` names the stream in messages (a socket's path).
    public init(source: String) {
        parser = TraceFile.Parser(path: source)
        parser.streaming = true
    }

    /// The names the stream declared so far (shared: records refer to it).
    public var names: NameTable { parser.names }
    public var meta: [String: String] { parser.meta }
    /// The step the loop waits to run (step mode), or nil while it runs freely.
    public var pending: StepPreview? { parser.pending }
    /// The program ended (an end line came).
    public var ended: Bool { parser.ended }
    /// Records the program's ring or the server dropped for this reader, per the end line.
    public var dropped: Int { parser.dropped }

    /// Takes `bytes` in and returns the records of the lines they completed.
    /// - Throws: ``TraceFileError`` for a damaged or hostile stream (the reader should hang up).
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) throws(TraceFileError) -> [TraceRecord] where Bytes.Element == UInt8 {
        partial.append(contentsOf: bytes)
        var start = 0
        // What the buffer may hold unparsed: a line, or a block waiting for the rest of its records.
        var allowed = Self.maximumLineLength
        while let end = partial[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = partial[start..<end]
            if let count = TraceFile.Parser.blockCount(line) {
                // `B count` and its binary records: parsed when all of them have arrived.
                let size = count * TraceFile.Parser.blockRecordSize
                guard count >= 0 else { throw TraceFileError(path: parser.path, line: lineNumber + 1, message: "damaged block line") }
                guard partial.count - (end + 1) >= size else {
                    allowed = max(allowed, end + 1 - start + size)
                    break
                }
                lineNumber += 1
                let number = lineNumber
                do {
                    try partial.withUnsafeBytes { raw in
                        try parser.block(UnsafeRawBufferPointer(rebasing: raw[(end + 1)..<(end + 1 + size)]), count: count, number)
                    }
                } catch let error as TraceFileError {
                    throw error
                } catch {
                    throw TraceFileError(path: parser.path, line: number, message: "\(error)")
                }
                start = end + 1 + size
                continue
            }
            lineNumber += 1
            start = end + 1
            do {
                try parser.take(String(decoding: line, as: UTF8.self), number: lineNumber)
            } catch let error as TraceFileError {
                throw error
            } catch {
                throw TraceFileError(path: parser.path, line: lineNumber, message: "\(error)")
            }
        }
        partial.removeFirst(start)
        if partial.count > allowed {
            throw TraceFileError(path: parser.path, line: lineNumber + 1, message: "line longer than \(Self.maximumLineLength) bytes")
        }
        let records = parser.records
        parser.records.removeAll(keepingCapacity: true)
        return records
    }
}
