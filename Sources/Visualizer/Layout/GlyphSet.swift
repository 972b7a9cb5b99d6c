import Foundation
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

    /// Glyphs from ``Vocabulary``: Unicode, and ASCII when the locale is not UTF-8.
    public static let unicode = GlyphSet(vocabularyASCII: false)
    public static let ascii = GlyphSet(vocabularyASCII: true)

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
        let term = Vocabulary.term(for: state)
        return Cell(glyph: glyph(term), style: term.style)
    }

    /// Glyph and style of a marker.
    func cell(for marker: LaneMarker.Kind) -> Cell {
        let term = Vocabulary.term(for: marker)
        return Cell(glyph: glyph(term), style: term.style)
    }
}

extension GlyphSet {
    /// Unicode glyphs when the locale speaks UTF-8, ASCII otherwise.
    public static var `default`: GlyphSet {
        let env = ProcessInfo.processInfo.environment
        let locale = env["LC_ALL"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LC_CTYPE"].flatMap { $0.isEmpty ? nil : $0 } ?? env["LANG"] ?? ""
        let upper = locale.uppercased()
        return upper.contains("UTF-8") || upper.contains("UTF8") ? .unicode : .ascii
    }
}
