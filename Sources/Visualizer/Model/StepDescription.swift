import Loop
import Trace

/// Scheduling steps in words, for the status line: `t=1.000 timer sleep → count#1 ready`.
public enum StepDescription {
    /// What step `number` (1-based) did, read from the records it wrote.
    public static func describe(step number: Int, in model: LaneModel) -> String {
        guard number >= 1, number <= model.steps.count else { return "" }
        let step = model.steps[number - 1]
        let end = number < model.steps.count ? model.steps[number].recordIndex : model.records.count
        let records = model.records[step.recordIndex..<end]
        let names = model.names
        let subject = names.name(step.subject)
        var head: String
        switch step.kind {
        case .slice: head = "step \(subject)"
        case .timer: head = "timer sleep"
        case .callback: head = "\(records.first?.detail(as: CallbackOrigin.self) == .timer ? "timer" : "call") \(subject)"
        }
        head = "t=\(ScheduleFormat.formatSeconds(Double(step.time) / 1e9)) " + head
        var effects: [String] = []
        var readied: [String] = []
        var spawned: [String] = []
        for record in records.dropFirst() {
            switch record.kind {
            case .taskSpawned: spawned.append(names.name(record.subject))
            case .taskReady where record.detail(as: ReadyCause.self) != .spawned:
                readied.append(names.name(record.subject))
            case .output: effects.append("prints \"\(names.name(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))))\"")
            case .eventSet: effects.append("sets \(names.name(record.subject))")
            case .taskSuspended: effects.append(suspension(record, names: names))
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
        }
    }

    private static func suspension(_ record: TraceRecord, names: NameTable) -> String {
        switch record.detail(as: SuspendReason.self) ?? .other {
        case .yield: return "yields"
        case .sleep: return "sleeps until \(ScheduleFormat.formatSeconds(Double(record.value) / 1e9))"
        case .event, .primitive: return "waits on \(names.name(record.other))"
        case .children: return "awaits \(names.name(record.other))"
        case .other: return "suspends"
        }
    }
}

extension ReadyCause {
    /// The cause in words: "timer", "event set".
    public var words: String {
        switch self {
        case .spawned: "spawned"
        case .yielded: "yielded"
        case .timer: "timer"
        case .eventSet: "event set"
        case .childDone: "child done"
        case .cancelled: "cancelled"
        case .external: "another thread"
        case .released: "released"
        case .runtime: "runtime"
        }
    }
}
