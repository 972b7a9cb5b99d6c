import Trace

/// The characters lanes are drawn with. Each state and marker has its own glyph, so the
/// picture reads without color (`NO_COLOR`, a pipe) and in ASCII (no UTF-8 locale).
public struct GlyphSet: Sendable, Equatable {
    public var running, ready, sleeping, waiting, awaiting, timerPending, unknown: Unicode.Scalar
    public var waitingIO, wokenByIO, wrote: Unicode.Scalar
    /// The vertical connector of a wake-up on the step axis.
    public var connector: Unicode.Scalar
    public var timerFired, wokenByEvent, wokenByChild, wokenOther, eventSet, output: Unicode.Scalar
    public var slowStep: Unicode.Scalar
    /// Warnings: a task starved in the ready queue; a lost wake-up.
    public var starved, lostWakeup: Unicode.Scalar
    public var done, failed, cancelled, gap, rulerTick, rulerLine, separator, separatorBar: Unicode.Scalar
    /// Whether text (headers, status) may use characters beyond ASCII.
    public var unicodeText: Bool

    public static let unicode = GlyphSet(
        running: "█", ready: "▒", sleeping: "░", waiting: "┈", awaiting: "╌", timerPending: "·", unknown: "?",
        waitingIO: "≈", wokenByIO: "↯", wrote: "⇢", connector: "│",
        timerFired: "↑", wokenByEvent: "◇", wokenByChild: "↲", wokenOther: "»", eventSet: "◆", output: "•", slowStep: "▲", starved: "△", lostWakeup: "‼",
        done: "✓", failed: "✗", cancelled: "⊘", gap: "!", rulerTick: "┬", rulerLine: "─", separator: "─",
        separatorBar: "│", unicodeText: true)

    public static let ascii = GlyphSet(
        running: "#", ready: "=", sleeping: ".", waiting: "~", awaiting: "-", timerPending: ",", unknown: "?",
        waitingIO: "%", wokenByIO: "&", wrote: "$", connector: "|",
        timerFired: "^", wokenByEvent: "<", wokenByChild: "{", wokenOther: ">", eventSet: "*", output: "o", slowStep: "S", starved: "W", lostWakeup: "L",
        done: "]", failed: "X", cancelled: "C", gap: "!", rulerTick: "+", rulerLine: "-", separator: "-",
        separatorBar: "|", unicodeText: false)

    /// `text` as this glyph set can show it: in ASCII, arrows and symbols get ASCII spellings.
    func text(_ text: String) -> String {
        guard !unicodeText else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "→": result += "->"
            case "←": result += "<-"
            case "↑": result += "^"
            case "↓": result += "v"
            case "│": result += "|"
            case "×": result += "x"
            case "—": result += "-"
            case "µ": result += "u"
            case "…": result += "..."
            default: result.unicodeScalars.append(scalar.isASCII ? scalar : "?")
            }
        }
        return result
    }

    /// Glyph and style of a lane state.
    func cell(for state: LaneState) -> Cell {
        switch state {
        case .running: Cell(glyph: running, style: .running)
        case .ready: Cell(glyph: ready, style: .ready)
        case .sleeping: Cell(glyph: sleeping, style: .sleeping)
        case .waiting: Cell(glyph: waiting, style: .waiting)
        case .awaiting: Cell(glyph: awaiting, style: .awaiting)
        case .waitingIO: Cell(glyph: waitingIO, style: .waitingIO)
        case .timerPending: Cell(glyph: timerPending, style: .timerPending)
        case .unknown: Cell(glyph: unknown, style: .failure)
        }
    }

    /// Glyph and style of a marker.
    func cell(for marker: LaneMarker.Kind) -> Cell {
        switch marker {
        case .timerFired: Cell(glyph: timerFired, style: .wake)
        case .woken(let cause, _):
            switch cause {
            case .eventSet: Cell(glyph: wokenByEvent, style: .wake)
            case .childDone: Cell(glyph: wokenByChild, style: .wake)
            case .io: Cell(glyph: wokenByIO, style: .wake)
            default: Cell(glyph: wokenOther, style: .wake)
            }
        case .eventSet: Cell(glyph: eventSet, style: .marker)
        case .wrote: Cell(glyph: wrote, style: .marker)
        case .output: Cell(glyph: output, style: .output)
        case .done(.ok): Cell(glyph: done, style: .done)
        case .done(.error): Cell(glyph: failed, style: .failure)
        case .done(.cancelled): Cell(glyph: cancelled, style: .failure)
        case .gap: Cell(glyph: gap, style: .failure)
        case .slowStep: Cell(glyph: slowStep, style: .warning)
        case .warning(.starved): Cell(glyph: starved, style: .warning)
        case .warning(.lostWakeup): Cell(glyph: lostWakeup, style: .warning)
        }
    }

    /// The legend line under plain output and in the help overlay.
    public var legend: String {
        "\(running) running  \(ready) ready  \(sleeping) sleeping  \(waiting) waiting on event  \(awaiting) awaiting tasks  "
            + "\(waitingIO) waiting on I/O  \(wokenByIO) woken by I/O  \(wrote) wrote to a socket  "
            + "\(timerPending) timer armed  \(timerFired) timer fired  \(eventSet) event set  \(wokenByEvent) woken by event  "
            + "\(wokenByChild) woken by child  \(output) printed  \(done) done  \(failed) failed  \(cancelled) cancelled  \(unknown) lost records"
    }
}
