import Loop
import Trace

/// Scheduling steps in words, for the status line: `t=1.000 timer sleep → count#1 ready`.
public enum StepDescription {
    /// What step `number` (1-based) did, read from the records it wrote.
    public static func describe(step number: Int, in model: LaneModel) -> String {
        guard number >= 1, model.hasStep(number) else { return "" }
        let step = model.step(number)
        let end = number < model.stepCount ? model.step(number + 1).recordIndex : model.eventCount
        let records = model.records(in: step.recordIndex..<end)
        let names = model.names
        let subject = names.name(step.subject)
        var head: String
        switch step.kind {
        case .slice: head = "step \(subject)"
        case .timer: head = "timer sleep"
        case .callback: head = "\(records.first?.detail(as: CallbackOrigin.self) == .timer ? "timer" : "call") \(subject)"
        case .io: head = "\(subject) \(readinessWords(records.first?.value ?? 0))"
        }
        head = "t=\(ScheduleFormat.formatSeconds(Double(step.time) / 1e9)) " + head
        // A slow step says so first: the status line is cut at its end, never here.
        if let slow = model.slowSteps.first(where: { $0.step == number }) {
            head += " (held the loop \(Int((Double(slow.duration) / 1e6).rounded())) ms)"
        }
        var effects: [String] = []
        var readied: [String] = []
        var spawned: [String] = []
        for record in records.dropFirst() {
            switch record.kind {
            // What the loop's plumbing did between steps (a server's handler spawned, a connection
            // made) is not this step's doing: only what its subject spawned or woke is said.
            case .taskSpawned where record.other == step.subject || step.kind == .io:
                spawned.append(names.name(record.subject))
            case .taskReady where record.detail(as: ReadyCause.self) == .cancelled && record.other == step.subject:
                effects.append("cancels \(names.name(record.subject))")
            case .taskReady where record.detail(as: ReadyCause.self) != .spawned
                && (record.other == step.subject || step.kind == .timer || step.kind == .io):
                readied.append(names.name(record.subject))
            case .output: effects.append("\(Vocabulary.output.verb) \"\(names.name(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))))\"")
            case .eventSet: effects.append("\(Vocabulary.eventSet.verb) \(names.name(record.subject))")
            case .taskSuspended: effects.append(suspension(record, names: names))
            case .ioRead:
                switch record.detail(as: IOReadOutcome.self) ?? .data {
                case .data: effects.append("\(record.value) bytes read from \(names.name(record.subject))")
                case .endOfStream: effects.append("end of stream on \(names.name(record.subject))")
                case .error: effects.append("read error on \(names.name(record.subject))")
                }
            case .ioWritten:
                let how = record.detail(as: IOWriteOutcome.self) == .sent ? "" : " (buffered)"
                effects.append("\(Vocabulary.wrote.verb) \(record.value) bytes to \(names.name(record.subject))\(how)")
            case .ioAccepted: effects.append("accepts \(names.name(record.subject))")
            case .ioOpened: effects.append("opens \(names.name(record.subject))")
            case .ioClosed: effects.append("closes \(names.name(record.subject))")
            case .taskDone:
                let outcome = record.detail(as: TaskOutcome.self) ?? .ok
                effects.append(outcome == .ok ? "done" : "done (\(outcome))")
            default: break
            }
        }
        if !spawned.isEmpty { effects.insert("spawns \(spawned.joined(separator: ", "))", at: 0) }
        var text = head
        if !effects.isEmpty { text += ": " + effects.joined(separator: ", ") }
        if !readied.isEmpty { text += " → \(readied.joined(separator: ", ")) ready" }
        return text
    }

    /// What the loop is about to do, from the step gate's preview.
    public static func describe(preview: StepPreview, names: NameTable) -> String {
        let time = "t=\(ScheduleFormat.formatSeconds(Double(preview.time) / 1e9))"
        let subject = names.name(preview.subject)
        switch preview.kind {
        case .taskSlice: return "\(time) step \(subject) (resume it)"
        case .timerFire: return "\(time) timer sleep → \(subject) ready"
        case .callback: return "\(time) run callback \(subject)"
        case .ioReady: return "\(time) handle \(subject), ready for I/O"
        }
    }

    /// `readable`, `writable`, `readable, writable` from an `ioReady` record's bits.
    static func readinessWords(_ bits: Int64) -> String {
        let readiness = IOReadiness(rawValue: bits)
        var words: [String] = []
        if readiness.contains(.readable) { words.append("readable") }
        if readiness.contains(.writable) { words.append("writable") }
        if readiness.contains(.error) { words.append("error/hang-up") }
        return words.isEmpty ? "ready" : words.joined(separator: ", ")
    }

    /// How the slice ended, in the vocabulary's verbs: `sleeps until 1.000`, `waits on Event#1`,
    /// `waits to read fd 9`, `awaits count#1`.
    private static func suspension(_ record: TraceRecord, names: NameTable) -> String {
        let reason = record.detail(as: SuspendReason.self) ?? .other
        guard let term = Vocabulary.term(for: reason) else { return reason == .yield ? "yields" : "suspends" }
        switch reason {
        case .sleep: return "\(term.verb) until \(ScheduleFormat.formatSeconds(Double(record.value) / 1e9))"
        case .io:
            let operation = IOOperation(rawValue: UInt8(truncatingIfNeeded: record.value)) ?? .read
            let what = record.other == .none ? "" : " \(names.name(record.other))"
            return "\(term.verb) \(operation.words)\(what)"
        default: return "\(term.verb) \(names.name(record.other))"
        }
    }
}

extension ReadyCause {
    /// The cause in words: "timer", "event set" (from ``Vocabulary``).
    public var words: String { Vocabulary.term(for: self).label }
}

extension IOOperation {
    /// The operation as a verb: "read", "connect".
    public var words: String {
        switch self {
        case .read: "read"
        case .write: "write (drain)"
        case .connect: "connect"
        case .accept: "accept"
        case .close: "finish closing"
        case .resolve: "resolve a host"
        }
    }
}
