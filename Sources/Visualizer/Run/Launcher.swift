import Foundation

/// Picks the front end for a run: the live ncurses screen in a terminal, `--plain` otherwise.
public enum Launcher {
    public static func run(_ run: ScenarioRun) throws -> Int32 {
        var run = run
        if !run.options.plain {
            if let reason = TerminalCheck.whyNotInteractive() {
                FileHandle.standardError.write(Data("loopviz: \(reason); printing --plain output\n".utf8))
                run.options.plain = true
            }
        }
        if !run.options.plain {
            if let status = try LiveSession(run: run).execute() { return status }
            FileHandle.standardError.write(Data("loopviz: no usable terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "")); printing --plain output\n".utf8))
            run.options.plain = true
        }
        return try PlainRun.execute(run)
    }
}

/// Whether the live screen can run here.
enum TerminalCheck {
    /// nil when stdout is a terminal ncurses can drive; otherwise why not, in words.
    static func whyNotInteractive() -> String? {
        if isatty(STDOUT_FILENO) == 0 { return "stdout is not a terminal" }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return "TERM is \(term.isEmpty ? "not set" : "dumb")" }
        return nil
    }
}
