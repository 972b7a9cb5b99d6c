import Loop
import Trace

/// One thing a lane can show — a state or a marker — in every form it takes: its glyph, the
/// glyph's ASCII fallback, its color (style), a short label and a sentence. Everything that
/// shows lane states and markers is generated from ``Vocabulary``: the lanes, the one-line
/// legend, the help overlay, the `--plain` legend, Chrome slice and instant names, the per-task
/// figures and the step descriptions.
struct Term: Sendable, Equatable {
    let unicode: Unicode.Scalar
    let ascii: Unicode.Scalar
    let style: CellStyle
    /// One or two words: the one-line legend, slice names, the figures (`sleep`, `I/O`).
    let label: String
    /// What it means, for the help and the `--plain` legend.
    let sentence: String
    /// How a step description says a task enters this state (`sleeps`, `waits on`).
    let verb: String
    /// The one-line legend's word when it must be shorter than the label (`run`).
    var short: String? = nil

    /// The word the one-line legend uses.
    var legendWord: String { short ?? label }
}

/// Why a task joined the ready queue, in every form: the marker its lane shows, the label of
/// the wake edge (the log, `--plain`'s wake-ups, Chrome flow names) and what the loop-state
/// panel says about the queue entry.
struct CauseTerm: Sendable, Equatable {
    let marker: Term
    /// `event set`, `child done`.
    let label: String
    /// The panel's reason for a ready-queue entry (`its sleep is over`); the label when nil,
    /// followed by who and via what.
    let sentence: String?
}

/// The one place that names lane states and markers.
enum Vocabulary {
    // MARK: - States

    static let running = Term(unicode: "█", ascii: "#", style: .running, label: "running", sentence: "running", verb: "runs", short: "run")
    static let ready = Term(unicode: "▒", ascii: "=", style: .ready, label: "ready", sentence: "ready", verb: "is ready")
    static let sleeping = Term(unicode: "░", ascii: ".", style: .sleeping, label: "sleep", sentence: "sleeping", verb: "sleeps")
    static let waiting = Term(unicode: "┈", ascii: "~", style: .waiting, label: "wait", sentence: "waiting on an event, lock or queue", verb: "waits on")
    static let waitingIO = Term(unicode: "≈", ascii: "%", style: .waitingIO, label: "I/O", sentence: "waiting on I/O (a socket)", verb: "waits to")
    static let awaiting = Term(unicode: "╌", ascii: "-", style: .awaiting, label: "await", sentence: "awaiting tasks", verb: "awaits")
    static let timerPending = Term(unicode: "·", ascii: ",", style: .timerPending, label: "timer armed", sentence: "timer armed", verb: "arms a timer")
    static let unknown = Term(unicode: "?", ascii: "?", style: .failure, label: "unknown", sentence: "lost records", verb: "?")

    // MARK: - Markers

    static let timerFired = Term(unicode: "↑", ascii: "^", style: .wake, label: "timer fired", sentence: "timer fired", verb: "", short: "timer")
    static let eventSet = Term(unicode: "◆", ascii: "*", style: .marker, label: "set", sentence: "event set", verb: "sets")
    static let wokenByEvent = Term(unicode: "◇", ascii: "<", style: .wake, label: "woken", sentence: "woken by event", verb: "")
    static let wokenOther = Term(unicode: "»", ascii: ">", style: .wake, label: "woken", sentence: "let go by a lock, semaphore or queue", verb: "")
    static let wokenByIO = Term(unicode: "↯", ascii: "&", style: .wake, label: "woken", sentence: "woken by I/O", verb: "")
    static let wokenToCancel = Term(unicode: "×", ascii: "x", style: .wake, label: "woken", sentence: "woken to be cancelled", verb: "")
    static let wokenByChild = Term(unicode: "↲", ascii: "{", style: .wake, label: "woken", sentence: "woken by a child", verb: "")
    static let wrote = Term(unicode: "⇢", ascii: "$", style: .marker, label: "write", sentence: "wrote to a socket", verb: "writes")
    static let output = Term(unicode: "•", ascii: "o", style: .output, label: "print", sentence: "printed", verb: "prints")
    static let done = Term(unicode: "✓", ascii: "]", style: .done, label: "done", sentence: "done", verb: "done")
    static let failed = Term(unicode: "✗", ascii: "X", style: .failure, label: "failed", sentence: "failed", verb: "fails")
    static let cancelled = Term(unicode: "⊘", ascii: "C", style: .failure, label: "cancelled", sentence: "cancelled", verb: "is cancelled")
    static let gap = Term(unicode: "!", ascii: "!", style: .failure, label: "records lost", sentence: "records lost here", verb: "")
    static let slowStep = Term(unicode: "▲", ascii: "S", style: .warning, label: "slow step", sentence: "slow step: held the loop at least --slow-ms (default 100 ms)", verb: "")
    static let starved = Term(unicode: "△", ascii: "W", style: .warning, label: "starved", sentence: "starved: ready that long while others ran", verb: "")
    static let lostWakeup = Term(unicode: "‼", ascii: "L", style: .warning, label: "lost wake-up", sentence: "lost wake-up: nothing alive can let it go", verb: "")
    static let connector = Term(unicode: "│", ascii: "|", style: .wake, label: "", sentence: "links waker and woken (step order)", verb: "")

    // MARK: - Mappings

    static func term(for state: LaneState) -> Term {
        switch state {
        case .running: running
        case .ready: ready
        case .sleeping: sleeping
        case .waiting: waiting
        case .waitingIO: waitingIO
        case .awaiting: awaiting
        case .timerPending: timerPending
        case .unknown: unknown
        }
    }

    static func term(for marker: LaneMarker.Kind) -> Term {
        switch marker {
        case .timerFired: timerFired
        case .woken(let cause, _): term(for: cause).marker
        case .eventSet: eventSet
        case .wrote: wrote
        case .output: output
        case .done(.ok): done
        case .done(.error): failed
        case .done(.cancelled): cancelled
        case .gap: gap
        case .slowStep: slowStep
        case .warning(.starved): starved
        case .warning(.lostWakeup): lostWakeup
        }
    }

    // MARK: - Ready causes

    static func term(for cause: ReadyCause) -> CauseTerm {
        switch cause {
        case .spawned: CauseTerm(marker: wokenOther, label: "spawned", sentence: "new task")
        case .yielded: CauseTerm(marker: wokenOther, label: "yielded", sentence: "it yielded (sleep(0))")
        case .timer: CauseTerm(marker: wokenOther, label: "timer", sentence: "its sleep is over")
        case .eventSet: CauseTerm(marker: wokenByEvent, label: "event set", sentence: nil)
        case .childDone: CauseTerm(marker: wokenByChild, label: "child done", sentence: nil)
        case .cancelled: CauseTerm(marker: wokenToCancel, label: "cancelled", sentence: nil)
        case .external: CauseTerm(marker: wokenOther, label: "another thread", sentence: nil)
        case .released: CauseTerm(marker: wokenOther, label: "released", sentence: nil)
        case .runtime: CauseTerm(marker: wokenOther, label: "runtime", sentence: nil)
        case .io: CauseTerm(marker: wokenByIO, label: "I/O", sentence: nil)
        }
    }

    // MARK: - Suspend reasons

    /// The state a slice's end puts its task in, for a ``SuspendReason`` (nil: a yield, back to
    /// ready at once; or suspended outside the loop, which has no state of its own).
    static func term(for reason: SuspendReason) -> Term? {
        switch reason {
        case .sleep: sleeping
        case .event, .primitive: waiting
        case .children: awaiting
        case .io: waitingIO
        case .yield, .other: nil
        }
    }

    /// A state with what it is about, one spelling everywhere: `sleep`, `wait Event#1`,
    /// `I/O read fd 9`, `await count#1`.
    static func describe(_ state: LaneState, names: NameTable) -> String {
        let label = term(for: state).label
        switch state {
        case .waiting(let on): return "\(label) \(names.name(on))"
        case .awaiting(let child): return "\(label) \(names.name(child))"
        case .waitingIO(let on, let operation):
            return on == .none ? "\(label) \(operation.words)" : "\(label) \(operation.words) \(names.name(on))"
        case .running, .ready, .sleeping, .timerPending, .unknown: return label
        }
    }

    // MARK: - Legends

    /// The full legend, line by line: the help overlay and the `--plain` legend.
    static let legend: [[Term]] = [
        [running, ready, sleeping, waiting],
        [awaiting, waitingIO, timerPending, unknown],
        [timerFired, eventSet, wokenByEvent, wokenOther],
        [wokenByIO, wrote, connector],
        [wokenByChild, wokenToCancel, output, done, failed, cancelled],
        [slowStep],
        [starved, lostWakeup],
    ]

    /// The one-line legend under the log (it must fit 80 columns): each state by its label,
    /// the wake-up markers together; the I/O glyphs only for a run with I/O.
    static func shortLegend(_ glyphs: GlyphSet, withIO: Bool) -> String {
        let states = (withIO ? [running, ready, sleeping, waitingIO, waiting, awaiting] : [running, ready, sleeping, waiting, awaiting])
            .map { "\(glyphs.glyph($0)) \($0.legendWord)" }
        let wakes = (withIO ? [wokenByIO, wokenByEvent, wokenOther, wokenByChild] : [wokenByEvent, wokenOther, wokenByChild])
            .map { String(glyphs.glyph($0)) }.joined()
        var parts = states + ["\(glyphs.glyph(timerFired)) \(timerFired.legendWord)", "\(wakes) \(wokenOther.label)"]
        // With I/O the line has no room for the print marker (the help has it).
        if !withIO { parts.append("\(glyphs.glyph(output)) \(output.label)") }
        parts += ["\(glyphs.glyph(done)) \(done.label)", "? help"]
        return parts.joined(separator: " ")
    }
}

extension GlyphSet {
    /// The glyph of `term` in this set.
    func glyph(_ term: Term) -> Unicode.Scalar { unicodeText ? term.unicode : term.ascii }

    /// Builds the set from the vocabulary: Unicode glyphs or their ASCII fallbacks.
    init(vocabularyASCII ascii: Bool) {
        func pick(_ term: Term) -> Unicode.Scalar { ascii ? term.ascii : term.unicode }
        let v = Vocabulary.self
        self.init(
            running: pick(v.running), ready: pick(v.ready), sleeping: pick(v.sleeping), waiting: pick(v.waiting),
            awaiting: pick(v.awaiting), timerPending: pick(v.timerPending), unknown: pick(v.unknown),
            waitingIO: pick(v.waitingIO), wokenByIO: pick(v.wokenByIO), wrote: pick(v.wrote), connector: pick(v.connector),
            timerFired: pick(v.timerFired), wokenByEvent: pick(v.wokenByEvent), wokenByChild: pick(v.wokenByChild),
            wokenOther: pick(v.wokenOther), eventSet: pick(v.eventSet), output: pick(v.output), slowStep: pick(v.slowStep),
            starved: pick(v.starved), lostWakeup: pick(v.lostWakeup), done: pick(v.done), failed: pick(v.failed),
            cancelled: pick(v.cancelled), gap: pick(v.gap),
            rulerTick: ascii ? "+" : "┬", rulerLine: ascii ? "-" : "─", separator: ascii ? "-" : "─", separatorBar: ascii ? "|" : "│",
            unicodeText: !ascii)
    }
}
