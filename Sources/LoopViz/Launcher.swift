import Foundation
import Visualizer

/// Picks the front end for a run: the live ncurses screen in a terminal, `--plain` otherwise.
public enum Launcher {
    public static func run(_ run: ProgramRun) throws -> Int32 {
        var run = run
        let screen = try withScreen(unless: run.options.plain) { try LiveSession(run: run).execute() }
        if let status = screen { return status }
        run.options.plain = true
        return try PlainRun.execute(run)
    }

    /// Runs `session` when the terminal UI is wanted and possible, prints what it left and
    /// returns its exit status; nil means "print plain output instead" (asked for, or not a
    /// terminal, or no terminfo entry: said on stderr in one line).
    static func withScreen(unless plain: Bool, _ session: () throws -> SessionOutcome?) throws -> Int32? {
        guard !plain else { return nil }
        if let reason = TerminalCheck.whyNotInteractive() {
            StandardStream.error.write("loopviz: \(reason); printing --plain output\n")
            return nil
        }
        if let outcome = try session() { return outcome.deliver() }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        StandardStream.error.write("loopviz: no usable terminal (TERM=\(term)); printing --plain output\n")
        return nil
    }
}

