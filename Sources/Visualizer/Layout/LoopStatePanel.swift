import Loop
import Trace

/// The loop's own state in words, for the step the picture shows: what it runs next, its ready
/// queue with why each entry is there, its timers by deadline, who waits on what and who holds
/// which lock. The live screen shows it in place of the log (`w`); `--plain --loop-state`
/// prints it for every step.
public enum LoopStatePanel {
    /// The title and the lines after step `shown` (0: before the first step). `pending` is what
    /// the loop waits to do at the live edge in step mode, in words. Pure.
    static func lines(model: LaneModel, after shown: Int, pending: String? = nil, pendingPreview: StepPreview? = nil,
                      liveNow: Int64? = nil) -> (title: String, lines: [String]) {
        let title = shown == 0 ? "the loop before its first step" : "the loop after step \(shown)"
        return (title, lines(LoopQueues.after(step: shown, in: model), shown: shown, model: model,
                             pending: pending, pendingPreview: pendingPreview, liveNow: liveNow))
    }

    /// The lines for the state `after` step `shown`: the panel's and `--plain --loop-state`'s.
    static func lines(_ after: LoopQueues.AfterStep, shown: Int, model: LaneModel, pending: String? = nil,
                      pendingPreview: StepPreview? = nil, liveNow: Int64? = nil) -> [String] {
        let names = model.names
        var (queues, next) = (after.queues, after.next)
        // At the live edge in step mode the loop has popped the entry it waits to run: so do we.
        if next == nil, after.sleep == nil, let pendingPreview {
            next = queues.take(kind: pendingPreview.kind.readyKind, subject: pendingPreview.subject)
        }
        let now = model.hasStep(shown) ? model.step(shown).time : (shown <= 0 ? 0 : model.lastTime)
        var lines: [String] = []
        if let liveNow, shown >= model.stepCount, after.sleep == nil, let running = model.runningStep {
            // Live, in the middle of a step: the loop is not asleep, it is held.
            let held = Int((Double(max(0, liveNow - running.since)) / 1e6).rounded())
            lines.append("running: \(names.name(running.who)) since t=\(seconds(running.since)) (\(held) ms): nothing else can run until it yields")
            if let timer = queues.timers.first, timer.deadline < liveNow {
                lines.append("  overdue meanwhile: \(describe(timer, names)) was due at t=\(seconds(timer.deadline))")
            }
        } else if let next {
            // No time here: the history knows the next step's, the live edge only a preview's
            // (the status line says it); the panel reads the same either way.
            let rest = queues.ready.count
            lines.append("next: \(describe(next, names))\(rest == 0 ? "; nothing else ready" : "; \(rest) more after it")")
        } else if let sleep = after.sleep {
            lines.append(sleepLine(sleep, queues, names))
        } else if let pending {
            lines.append("next: \(pending)")
        } else if model.isFinished && shown >= model.stepCount {
            lines.append("the run is over")
        } else if !queues.ready.isEmpty {
            lines.append("next: run the \(queues.ready.count) ready item\(queues.ready.count == 1 ? "" : "s"), in order")
        } else if let timer = queues.timers.first {
            lines.append("nothing ready: the loop sleeps until t=\(seconds(timer.deadline)) (\(describe(timer, names)))")
        } else {
            lines.append("nothing ready")
        }
        if !queues.ready.isEmpty {
            lines.append("ready queue (\(queues.ready.count)), in the order the loop runs it:")
            lines += queues.ready.map { "  \(describe($0, names))" }
        }
        if !queues.timers.isEmpty {
            lines.append("timers (\(queues.timers.count)), by deadline:")
            let reference = liveNow.map { max($0, now) } ?? now
            lines += queues.timers.map { timer in
                // Saturating: a damaged recording's deadline may be anywhere in Int64.
                let (difference, overflow) = timer.deadline.subtractingReportingOverflow(reference)
                let left = overflow ? (timer.deadline < reference ? -Int64.max : .max) : max(difference, -Int64.max)
                let when = left >= 0 ? "+\(seconds(left))s" : "overdue \(seconds(-left))s"
                return "  \(when)  t=\(seconds(timer.deadline))  \(describe(timer, names))"
            }
        }
        let waits = waitingLines(queues, names)
        if !waits.isEmpty {
            lines.append("waiting:")
            lines += waits.map { "  \($0)" }
        }
        if queues.incomplete { lines.append("(records were lost: this may be incomplete)") }
        return lines
    }

    /// `--plain --loop-state`: the panel's lines after every retained step (and before the
    /// first), each under the step's own words. O(records): one pass.
    public static func everyStep(_ model: LaneModel) -> String {
        var text = "\nthe loop, step by step (its state after each step):\n"
        if model.trimmedSteps > 0 { text += "(steps 1–\(model.trimmedSteps) left memory: --history)\n" }
        LoopQueues.afterEveryStep(in: model) { number, after in
            text += number == 0 ? "\nbefore the first step:\n" : "\nstep \(number): \(StepDescription.describe(step: number, in: model))\n"
            text += lines(after, shown: number, model: model).map { "  \($0)\n" }.joined()
        }
        return text
    }

    /// The loop has nothing ready and sleeps: until when, and what it runs on waking — the
    /// first timer due then (the same words as that entry will have in the ready queue).
    static func sleepLine(_ sleep: LoopQueues.Sleep, _ queues: LoopQueues, _ names: NameTable) -> String {
        let io = queues.waiters.keys.contains { names.entry($0)?.kind == .socket }
        guard case .until(let deadline) = sleep, let first = queues.timers.first else {
            return "next: nothing ready, no timer: the loop waits for \(io ? "I/O" : "work from another thread")"
        }
        let due = queues.timers.prefix { $0.deadline <= deadline }.count
        let entry = LoopQueues.Entry(kind: first.purpose == .sleep ? .timer : .callback, subject: first.subject, fromTimer: true)
        var line = "next: sleep until t=\(seconds(deadline)), then: \(describe(entry, names))"
        if due > 1 { line += "; \(due - 1) more due then" }
        if io { line += " (or sooner, on I/O)" }
        return line
    }

    /// One ready-queue entry and why it is there.
    static func describe(_ entry: LoopQueues.Entry, _ names: NameTable) -> String {
        let subject = names.name(entry.subject)
        switch entry.kind {
        case .task:
            guard let cause = entry.cause else { return "run \(subject)" }
            let term = Vocabulary.term(for: cause)
            var why = term.sentence ?? term.label
            switch cause {
            case .spawned: if entry.waker != .none { why += ", spawned by \(names.name(entry.waker))" }
            case .yielded, .timer: break
            default:
                if entry.waker != .none { why += " by \(names.name(entry.waker))" }
                if entry.via != .none { why += " via \(names.name(entry.via))" }
            }
            return "run \(subject) — \(why)"
        case .timer: return "fire \(subject)'s sleep timer (due)"
        case .callback:
            if entry.fromTimer { return "call \(subject) (its timer is due)" }
            if entry.cause == .external { return "call \(subject) (from another thread)" }
            return entry.waker == .none ? "call \(subject) (call_soon)" : "call \(subject) (call_soon by \(names.name(entry.waker)))"
        case .relay: return "gather's hop for \(subject) (\(names.name(entry.waker)) done): \(subject) is ready after it"
        case .io: return "handle \(subject) (ready for I/O)"
        }
    }

    static func describe(_ timer: LoopQueues.Timer, _ names: NameTable) -> String {
        switch timer.purpose {
        case .sleep: "wakes \(names.name(timer.subject)) (sleep)"
        case .callback: "calls \(names.name(timer.subject))"
        }
    }

    /// `Event#1: coro1#1, coro2#1`, `Lock#1 held by worker#1; waiting: worker#2, worker#3`,
    /// `fd 9: handle#1 (read)`, `count#1 awaited by main`, `Queue#1: 2 items`.
    static func waitingLines(_ queues: LoopQueues, _ names: NameTable) -> [String] {
        var lines: [String] = []
        let keys = Set(queues.waiters.keys).union(queues.holders.keys).sorted()
        for key in keys {
            let waiting = (queues.waiters[key] ?? []).map(names.name)
            let held = (queues.holders[key] ?? []).map(names.name)
            let name = names.name(key)
            switch names.entry(key)?.kind {
            case .task?:
                lines.append("\(waiting.joined(separator: ", ")) \(waiting.count == 1 ? "awaits" : "await") \(name)")
            case .socket?:
                lines.append("\(name): \(waiting.joined(separator: ", ")) (I/O)")
            default:
                var line = name
                if !held.isEmpty { line += " held by \(held.joined(separator: ", "))" }
                if !waiting.isEmpty { line += held.isEmpty ? ": \(waiting.joined(separator: ", "))" : "; waiting: \(waiting.joined(separator: ", "))" }
                lines.append(line)
            }
        }
        for (queue, size) in queues.queueSizes.sorted(by: { $0.key < $1.key }) {
            lines.append("\(names.name(queue)): \(size) item\(size == 1 ? "" : "s")")
        }
        return lines
    }

    static func seconds(_ nanoseconds: Int64) -> String {
        ScheduleFormat.formatSeconds(Double(nanoseconds) / 1e9)
    }
}
