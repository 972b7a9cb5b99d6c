/// The schedule view of a trace, in exactly the line format of CPython's
/// `reference/asyncio_trace.py`: `<seconds> step|done|timer|call <name>`, one line per unit of
/// work the loop runs. This is what loopviz is checked against, line for line.
public enum ScheduleFormat {
    /// One line of the schedule.
    public struct Line: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable { case step, done, timer, call }
        public var seconds: Double
        public var kind: Kind
        public var name: String
        public var description: String { "\(formatSeconds(seconds)) \(kind.rawValue) \(name)" }
        /// The line without its timestamp: what must equal CPython's.
        public var kindAndName: String { "\(kind.rawValue) \(name)" }
    }

    /// The schedule lines that `records` describe, in order. O(records).
    public static func lines(_ records: [TraceRecord], names: NameTable) -> [Line] {
        var lines: [Line] = []
        for record in records {
            let seconds = Double(record.time) / 1e9
            switch record.kind {
            case .taskResumed:
                lines.append(Line(seconds: seconds, kind: .step, name: names.name(record.subject)))
            case .taskDone:
                lines.append(Line(seconds: seconds, kind: .done, name: names.name(record.subject)))
            case .timerFired:
                lines.append(Line(seconds: seconds, kind: .timer, name: "sleep"))
            case .callbackStarted:
                // The loop's own plumbing (a leading underscore) stays out, as in CPython's tracer.
                let name = names.name(record.subject)
                if name.hasPrefix("_") { continue }
                let origin = record.detail(as: CallbackOrigin.self)
                lines.append(Line(seconds: seconds, kind: origin == .timer ? .timer : .call, name: name))
            default:
                break
            }
        }
        return lines
    }

    /// The whole schedule as text, one line each, newline-terminated.
    public static func text(_ records: [TraceRecord], names: NameTable) -> String {
        lines(records, names: names).map { "\($0)\n" }.joined()
    }

    /// `1.0025` → `1.003`, as Python's `f"{x:.3f}"`.
    public static func formatSeconds(_ seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded())
        let whole = millis / 1000
        let frac = abs(millis % 1000)
        let fracText = String(frac)
        return "\(seconds < 0 && millis != 0 ? "-" : "")\(abs(whole)).\(String(repeating: "0", count: 3 - fracText.count))\(fracText)"
    }
}
