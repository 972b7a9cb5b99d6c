import Foundation
import Visualizer

/// A loopviz option with a missing or bad value, in one line.
public struct OptionError: Error, CustomStringConvertible, Equatable {
    public var description: String
}

/// The options a program run through ``LoopViz`` understands: the same as `loopviz count`'s.
enum Options {
    static let usage = """
        loopviz options: --plain [--no-lanes] [--loop-state] | --step, --clock real|virtual, --speed X, \
        --slow-ms N, --record FILE, --schedule FILE, --chrome-trace FILE, --width N, --tree, --history N, --serve SOCKET \
        (or in the LOOPVIZ environment variable)
        """

    /// Applies the options it knows from `arguments` to `options`; returns the others (the
    /// program's) when `keepUnknown`, else refuses them.
    static func apply(_ arguments: [String], to options: inout RunOptions, keepUnknown: Bool) throws(OptionError) -> [String] {
        var rest: [String] = []
        var index = 0
        func value(_ flag: String) throws(OptionError) -> String {
            index += 1
            guard index < arguments.count else { throw OptionError(description: "\(flag) needs a value") }
            return arguments[index]
        }
        func number(_ flag: String, _ range: ClosedRange<Double>) throws(OptionError) -> Double {
            let text = try value(flag)
            guard let number = Double(text), number.isFinite, range.contains(number) else {
                throw OptionError(description: "\(flag) must be a number from \(range.lowerBound) to \(range.upperBound) (got \(text))")
            }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--plain": options.plain = true
            case "--no-lanes": options.lanes = false
            case "--loop-state": options.loopState = true
            case "--step": options.step = true
            case "--tree": options.tree = true
            case "--clock":
                let text = try value(argument)
                guard let clock = RunOptions.ClockChoice(rawValue: text) else {
                    throw OptionError(description: "--clock must be real or virtual (got \(text))")
                }
                options.clock = clock
            case "--speed":
                let speed = try number(argument, 0.001...1000)
                options.speed = speed
            case "--slow-ms": options.slowMilliseconds = try number(argument, 0.001...3_600_000)
            case "--width": options.width = Int(try number(argument, 20...1000))
            case "--history": options.historyLimit = Int(try number(argument, 1000...1e12))
            case "--record": options.recordPath = try writable(try value(argument), argument)
            case "--schedule": options.schedulePath = try writable(try value(argument), argument)
            case "--chrome-trace": options.chromeTracePath = try writable(try value(argument), argument)
            case "--serve": options.servePath = try value(argument)
            default:
                guard keepUnknown else { throw OptionError(description: "unknown loopviz option \(argument)") }
                rest.append(argument)
            }
            index += 1
        }
        if options.step && options.plain {
            throw OptionError(description: "--step needs the terminal UI; it cannot be combined with --plain")
        }
        return rest
    }

    /// Splits the `LOOPVIZ` variable into arguments as a shell would, simply: on whitespace,
    /// with '…' and "…" quoting and a backslash escaping the next character (outside '…'), so
    /// that a path with a space can be given (`LOOPVIZ="--record 'my run.lvt'"`). No variables,
    /// no globs: the shell that set the variable did those.
    static func split(_ text: String) throws(OptionError) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                word.append(character)
                escaped = false
            } else if character == "\\" && quote != "'" {
                escaped = true
                inWord = true
            } else if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                inWord = true
            } else if character.isWhitespace {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else {
                word.append(character)
                inWord = true
            }
        }
        if quote != nil || escaped { throw OptionError(description: "LOOPVIZ: unterminated quote or trailing backslash in \(text)") }
        if inWord { words.append(word) }
        return words
    }

    /// A file the run will write: checked before the run, not after it (``OutputPath``).
    static func writable(_ path: String, _ flag: String) throws(OptionError) -> String {
        if let problem = OutputPath.problem(with: path) { throw OptionError(description: "cannot write \(flag) \(path): \(problem)") }
        return path
    }
}
