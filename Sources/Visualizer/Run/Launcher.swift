import Foundation

/// Picks the front end for a run: the live ncurses screen in a terminal, `--plain` otherwise.
public enum Launcher {
    public static func run(_ run: ProgramRun) throws -> Int32 {
        var run = run
        let screen = try withScreen(unless: run.options.plain) { try LiveSession(run: run).execute() }
        if let status = screen { return status }
        run.options.plain = true
        return try PlainRun.execute(run)
    }

    /// Runs `session` when the terminal UI is wanted and possible; nil means "print plain output
    /// instead" (asked for, or not a terminal, or no terminfo entry: said on stderr in one line).
    static func withScreen(unless plain: Bool, _ session: () throws -> Int32?) throws -> Int32? {
        guard !plain else { return nil }
        if let reason = TerminalCheck.whyNotInteractive() {
            StandardStream.error.write("loopviz: \(reason); printing --plain output\n")
            return nil
        }
        if let status = try session() { return status }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        StandardStream.error.write("loopviz: no usable terminal (TERM=\(term)); printing --plain output\n")
        return nil
    }
}

/// Whether the live screen can run here.
enum TerminalCheck {
    /// nil when stdout is a terminal ncurses can drive; otherwise why not, in words.
    static func whyNotInteractive() -> String? {
        if isatty(STDOUT_FILENO) == 0 { return "stdout is not a terminal" }
        if isatty(STDIN_FILENO) == 0 {
            // Keys can still come from the controlling terminal; without one, nobody can press q.
            let tty = open("/dev/tty", O_RDONLY | O_CLOEXEC)
            if tty < 0 { return "stdin is not a terminal and there is no controlling terminal to read keys from" }
            close(tty)
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return "TERM is \(term.isEmpty ? "not set" : "dumb")" }
        return nil
    }
}
