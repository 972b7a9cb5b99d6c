#if canImport(Glibc)
import Glibc
#endif
import Foundation

extension TraceFile {
    /// A recording read a piece at a time, so that a replay holds no more of it than its model
    /// keeps (`--history`): ``next()`` parses the next chunk and hands its records out. The
    /// header and the metadata line are read on opening. Every way a file can be wrong ends in a
    /// ``TraceFileError`` naming the file and the line; with `salvage`, reading stops at the first
    /// bad line and keeps what came before (``complete`` is then false).
    public struct Reader {
        private var parser: TraceFile.Parser
        private let salvage: Bool
        /// The open file; -1 when reading from memory or once it is closed.
        private var fd: Int32
        private var partial: [UInt8] = []
        private var start = 0
        private var lineNumber = 0
        /// Nothing more will come: the end line, the end of the file, or (salvaging) damage.
        public private(set) var finished = false
        /// The file ended with its end line.
        public private(set) var complete = false
        private let chunkSize: Int

        /// Opens `path` and reads its header and metadata line.
        public init(path: String, salvage: Bool = false, chunkSize: Int = 1 << 20) throws(TraceFileError) {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw TraceFileError(path: path, line: nil, message: "cannot read the file") }
            try self.init(path: path, fd: fd, bytes: [], salvage: salvage, chunkSize: chunkSize)
        }

        /// Reads a recording held in memory (`path` is only for messages).
        public init(bytes: [UInt8], path: String, salvage: Bool = false) throws(TraceFileError) {
            try self.init(path: path, fd: -1, bytes: bytes, salvage: salvage, chunkSize: 1 << 20)
        }

        private init(path: String, fd: Int32, bytes: [UInt8], salvage: Bool, chunkSize: Int) throws(TraceFileError) {
            parser = TraceFile.Parser(path: path)
            self.fd = fd
            partial = bytes
            self.salvage = salvage
            self.chunkSize = chunkSize
            fill()
            guard !partial.isEmpty else {
                close()
                throw TraceFileError(path: path, line: nil, message: "empty file, not a loopviz recording")
            }
            // The header and the metadata line: a salvage never keeps a file without them.
            while lineNumber < 2 && !finished {
                do { try parseLines(limit: 2 - lineNumber) } catch { close(); throw error }
                if lineNumber < 2 && !finished { fill() }
            }
            if lineNumber < 2 {
                close()
                throw TraceFileError(path: path, line: lineNumber, message: "no metadata line after the header")
            }
        }

        public var meta: [String: String] { parser.meta }
        /// The names declared so far (shared: the model refers to it as more are declared).
        public var names: NameTable { parser.names }
        /// Records read so far, all told.
        public var recordCount: Int { parser.recordCount }
        /// Records the run lost, per the end line.
        public var dropped: Int { parser.dropped }

        /// The records of the next chunk (empty once ``finished``).
        public mutating func next() throws(TraceFileError) -> [TraceRecord] {
            guard !finished else { return [] }
            fill()
            do { try parseLines(limit: .max) } catch { close(); throw error }
            let records = parser.records
            parser.records.removeAll(keepingCapacity: true)
            return records
        }

        public mutating func close() {
            if fd >= 0 { _ = Glibc.close(fd) }
            fd = -1
        }

        /// Adds the next chunk of the file to what is left unparsed.
        private mutating func fill() {
            partial.removeFirst(start)
            start = 0
            guard fd >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: chunkSize)
            while true {
                let count = Glibc.read(fd, &buffer, buffer.count)
                if count > 0 { partial += buffer[0..<count]; return }
                if count < 0 && errno == EINTR { continue }
                close()  // the end of the file (a read error reads as one: the lines so far are checked)
                return
            }
        }

        /// Parses the whole lines read, `limit` at most; at the end of the file, what is left.
        private mutating func parseLines(limit: Int) throws(TraceFileError) {
            var parsed = 0
            while parsed < limit, !finished {
                guard let end = partial[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                    if fd >= 0 {
                        if partial.count - start <= TraceFile.maximumLineLength { return }  // the rest is still to come
                        return try stop(lineNumber + 1, "line longer than \(TraceFile.maximumLineLength) bytes")
                    }
                    if start < partial.count {
                        // The last line has no end of line: the file was cut while it was being written.
                        return try stop(lineNumber + 1, "truncated in the middle of a line (use --salvage to read what comes before)")
                    }
                    finished = true
                    complete = parser.ended
                    return
                }
                lineNumber += 1
                guard end - start <= TraceFile.maximumLineLength else {
                    return try stop(lineNumber, "line longer than \(TraceFile.maximumLineLength) bytes")
                }
                let line = String(decoding: partial[start..<end], as: UTF8.self)
                do {
                    try parser.take(line, number: lineNumber)
                } catch let error as TraceFileError {
                    if salvage && lineNumber > 2 { return salvaged() }
                    throw error
                } catch {
                    throw TraceFileError(path: parser.path, line: lineNumber, message: "\(error)")
                }
                start = end + 1
                parsed += 1
                if parser.ended {
                    finished = true
                    complete = true
                }
            }
        }

        /// Damage at line `number`: an error, or with `salvage` (past the metadata) the end.
        private mutating func stop(_ number: Int, _ message: String) throws(TraceFileError) {
            if salvage && number > 2 { return salvaged() }
            throw TraceFileError(path: parser.path, line: number, message: message)
        }

        private mutating func salvaged() {
            finished = true
            complete = false
            close()
        }
    }
}
