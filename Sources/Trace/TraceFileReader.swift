import Foundation

extension TraceFile {
    /// Reads a recording. Every way a file can be wrong (empty, another format, a newer version,
    /// cut mid-line, a damaged or unknown record, absurd numbers) ends in a ``TraceFileError``
    /// naming the file and the line. With `salvage`, reading stops at the first bad line and
    /// keeps everything before it instead.
    public static func read(path: String, salvage: Bool = false) throws -> Contents {
        var reader = try Reader(path: path, salvage: salvage)
        var records: [TraceRecord] = []
        while !reader.finished { records += try reader.next() }
        return Contents(meta: reader.meta, names: reader.names, records: records, complete: reader.complete, dropped: reader.dropped)
    }

    /// Parses a recording held in memory (`path` is only for messages). O(bytes).
    public static func parse(_ data: Data, path: String, salvage: Bool = false) throws -> Contents {
        var reader = try Reader(bytes: [UInt8](data), path: path, salvage: salvage)
        var records: [TraceRecord] = []
        while !reader.finished { records += try reader.next() }
        return Contents(meta: reader.meta, names: reader.names, records: records, complete: reader.complete, dropped: reader.dropped)
    }

    /// Reads a recording (or a live stream of one, see ``TraceStream``) line by line.
    struct Parser {
        let path: String
        /// A live stream: its end line counts what this reader was sent, not the whole run, and
        /// `P` lines say which step the loop waits at.
        var streaming = false
        /// The binary blocks' code tables (``TraceStream``): index = code, from the `K` and `S` lines.
        var kindCodes: [TraceKind?] = []   // nil: `switched` (see TraceStreamBlocks.swift)
        var stateCodes: [TaskState] = []
        /// From the last `T` line: what a block's times are less.
        var blockTimeBase: Int64 = 0
        /// From the last `P` line: the step the loop waits to run, or nil when it runs freely.
        var pending: StepPreview?
        var meta: [String: String] = [:]
        var names = NameTable()
        var nameCount = 1
        var records: [TraceRecord] = []
        /// The newest record's time (records may have been handed out already).
        var lastTime: Int64?
        /// Records read so far, all told.
        var recordCount = 0
        var ended = false
        var dropped = 0

        init(path: String) { self.path = path }

        func fail(_ number: Int, _ message: String) -> TraceFileError {
            TraceFileError(path: path, line: number, message: message)
        }

        mutating func take(_ line: String, number: Int) throws {
            if number == 1 { return try header(line) }
            if number == 2 {
                guard line.hasPrefix("M "), let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(2).utf8)) as? [String: String]
                else { throw fail(number, "expected the metadata line (M {...})") }
                meta = object
                return
            }
            if streaming && (line.hasPrefix("K ") || line.hasPrefix("S ")) { return try codes(line, number) }
            if streaming && line.hasPrefix("T ") { return try timeBase(line, number) }
            let fields = line.split(separator: " ", maxSplits: line.hasPrefix("N ") ? 3 : 8, omittingEmptySubsequences: false)
            switch fields.first {
            case "R": try record(fields, number)
            case "N": try name(fields, number)
            case "P" where streaming:
                try pendingStep(fields, number)
            case "E":
                guard fields.count == 3, let count = Int(fields[1]), let lost = Int(fields[2]), count >= 0, lost >= 0 else {
                    throw fail(number, "damaged end line")
                }
                guard streaming || count == recordCount else { throw fail(number, "end line counts \(count) records, the file holds \(recordCount)") }
                dropped = lost
                ended = true
            default:
                throw fail(number, "unknown line type '\(fields.first.map(String.init) ?? "")'")
            }
        }

        /// `P -` (runs freely) or `P <kind> <subject> <time>` (waits before that step).
        mutating func pendingStep(_ fields: [Substring], _ number: Int) throws {
            if fields.count == 2 && fields[1] == "-" {
                pending = nil
                return
            }
            guard fields.count == 4, let kind = StepPreview.Kind(wireName: String(fields[1])), let subject = UInt32(fields[2]),
                  Int(subject) < nameCount, let time = Int64(fields[3]), time >= 0 else {
                throw fail(number, "damaged pending-step line")
            }
            pending = StepPreview(kind: kind, subject: EntityID(rawValue: subject), time: time)
        }

        mutating func header(_ line: String) throws {
            let parts = line.split(separator: " ")
            guard parts.count == 2, parts[0] == TraceFile.magic else {
                throw TraceFileError(path: path, line: 1, message: "not a loopviz recording (no '\(TraceFile.magic)' header)")
            }
            guard let version = Int(parts[1]), version >= 1 else { throw fail(1, "damaged header") }
            guard version <= TraceFile.version else {
                throw fail(1, "written by a newer loopviz (format \(version); this one reads format \(TraceFile.version))")
            }
        }

        mutating func name(_ fields: [Substring], _ number: Int) throws {
            guard fields.count == 4, let id = Int(fields[1]) else { throw fail(number, "damaged name line") }
            guard id == nameCount else { throw fail(number, "name #\(id) out of order (expected #\(nameCount))") }
            guard let kind = EntityKind.byWireName[String(fields[2])] else { throw fail(number, "unknown name kind '\(fields[2])'") }
            guard let text = try? JSONSerialization.jsonObject(with: Data(fields[3].utf8), options: [.fragmentsAllowed]) as? String else {
                throw fail(number, "damaged name (expected a quoted string)")
            }
            _ = names.intern(text, kind: kind)
            nameCount += 1
        }

        mutating func record(_ fields: [Substring], _ number: Int) throws {
            guard fields.count == 8 else { throw fail(number, "damaged record (\(fields.count) fields, expected 8)") }
            guard let kind = TraceKind.byWireName[String(fields[2])] else { throw fail(number, "unknown record kind '\(fields[2])'") }
            guard let time = Int64(fields[1]), let subject = UInt32(fields[3]), let other = UInt32(fields[4]),
                  let value = Int64(fields[5]), let detail = UInt8(fields[6]) else {
                throw fail(number, "damaged record (a field is not a number in range)")
            }
            guard let state = TaskState.byWireName[String(fields[7])] else { throw fail(number, "unknown task state '\(fields[7])'") }
            try append(time: time, kind: kind, subject: subject, other: other, value: value, detail: detail, state: state, number)
        }

        /// Checks a record read from a line or a binary block and keeps it.
        mutating func append(time: Int64, kind: TraceKind, subject: UInt32, other: UInt32, value: Int64, detail: UInt8,
                             state: TaskState, _ number: Int) throws {
            // A day of loop time is far more than any recording holds: beyond it, the time is damage.
            guard time >= 0, time <= 86_400 * 1_000_000_000 else { throw fail(number, "absurd time \(time) ns") }
            if let lastTime, time < lastTime { throw fail(number, "time goes backwards (\(time) after \(lastTime))") }
            if Int(subject) >= nameCount || Int(other) >= nameCount {
                throw fail(number, "refers to #\(max(subject, other)), which no name line declared")
            }
            if kind == .output && (value < 1 || value >= nameCount) { throw fail(number, "output line refers to undeclared text #\(value)") }
            if kind == .gap && value < 0 { throw fail(number, "negative gap") }
            records.append(TraceRecord(time: time, kind: kind, subject: EntityID(rawValue: subject), other: EntityID(rawValue: other),
                                       value: value, detail: detail, state: state))
            lastTime = time
            recordCount += 1
        }

        func contents(complete: Bool) -> Contents {
            Contents(meta: meta, names: names, records: records, complete: complete, dropped: dropped)
        }
    }
}
