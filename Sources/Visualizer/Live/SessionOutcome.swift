import Foundation

/// What a closed screen session leaves for the application to do. The Visualizer neither writes
/// to stdout or stderr once the screen is closed nor picks exit statuses: the application layer
/// (the LoopViz library's front end, the `loopviz` command) prints these and turns the ending
/// into a status, so a program embedding the library decides what reaches its streams.
public struct SessionOutcome: Sendable, Equatable {
    public enum Ending: Sendable, Equatable {
        /// Closed with `q`, the run went well.
        case finished
        /// The program failed, a file asked for could not be written, or the stream was damaged
        /// (``messages`` say which).
        case failed
        /// Ended by this signal (Ctrl-C, SIGTERM; SIGHUP when the terminal went away).
        case signal(Int32)
    }

    public var ending: Ending
    /// For stdout: the program's output, as it would have stayed in the terminal.
    public var output = ""
    /// For stderr, one line each (without its newline): stray output captured while the screen
    /// was closing, then loopviz's own messages.
    public var messages: [String] = []
    /// The terminal went away: ``output`` is empty (nobody to show it to), and the messages are
    /// meant only for a stderr that is not that terminal (see ``TerminalCheck/hasHungUp(_:)``).
    public var hungUp = false

    public init(ending: Ending, output: String = "", messages: [String] = [], hungUp: Bool = false) {
        self.ending = ending
        self.output = output
        self.messages = messages
        self.hungUp = hungUp
    }
}

extension ScreenDriver.Ending {
    /// The session's ending: a signal's, else finished or `failed`.
    func outcome(failed: Bool) -> SessionOutcome.Ending {
        switch self {
        case .quit: failed ? .failed : .finished
        case .interrupted(let signal): .signal(signal)
        case .hungUp: .signal(SIGHUP)
        }
    }
}
