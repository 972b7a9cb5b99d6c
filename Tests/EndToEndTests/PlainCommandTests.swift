import Foundation
import Testing

/// `loopviz` as a user runs it in a pipe: the plain front end, the schedule file, bad input.
@Suite("loopviz command (plain)")
struct PlainCommandTests {
    static let scenarios = ["count", "event", "lock", "semaphore", "queue", "timeout", "blocking", "echo"]

    @Test(arguments: scenarios)
    func printsExactlyWhatCPythonPrints(scenario: String) throws {
        let result = try Loopviz.run([scenario, "--plain", "--no-lanes", "--clock", "virtual"])
        #expect(result.status == 0)
        #expect(result.stdout == (try Loopviz.fixture("\(scenario).output")))
    }

    @Test(arguments: scenarios)
    func scheduleFileMatchesCPythonLineForLine(scenario: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-\(scenario)-\(getpid()).schedule")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Loopviz.run([scenario, "--plain", "--clock", "virtual", "--schedule", file.path])
        #expect(result.status == 0)
        func kindsAndNames(_ text: String) -> [String] {
            text.split(separator: "\n").map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
        }
        let ours = try String(contentsOf: file, encoding: .utf8)
        #expect(kindsAndNames(ours) == kindsAndNames(try Loopviz.fixture("\(scenario).schedule")))
    }

    @Test func countOnTheRealClockOverlapsTheSleeps() throws {
        // The point of the demo: three 1 s sleeps side by side take about 1 s, not 3.
        let result = try Loopviz.run(["count", "--plain", "--no-lanes"])
        #expect(result.status == 0)
        #expect(result.seconds >= 1.0)
        #expect(result.seconds < 2.5)
    }

    @Test(arguments: ["lock", "semaphore", "queue", "timeout", "blocking", "echo"])
    func onTheRealClockEachScenarioTakesCPythonsTimeWithinTenPercent(scenario: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-real-\(scenario)-\(getpid()).schedule")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try Loopviz.run([scenario, "--plain", "--no-lanes", "--schedule", file.path])
        #expect(result.status == 0)
        func lastTime(_ text: String) -> Double? { text.split(separator: "\n").last.flatMap { Double($0.split(separator: " ")[0]) } }
        let ours = try #require(lastTime(try String(contentsOf: file, encoding: .utf8)))
        let cpython = try #require(lastTime(try Loopviz.fixture("\(scenario).schedule")))
        #expect(abs(ours - cpython) <= cpython * 0.1, "loopviz \(ours) s, CPython \(cpython) s")
    }

    @Test func helpListsEveryScenarioWithWhatItTeaches() throws {
        let help = try Loopviz.run(["--help"]).stdout
        for scenario in Self.scenarios { #expect(help.contains("  \(scenario) "), "\(scenario)") }
        #expect(help.contains("back-pressure"))
        #expect(help.contains("freezes the loop"))
    }

    @Test func plainEndsWithDiagnosticsAndATaskTable() throws {
        let result = try Loopviz.run(["blocking", "--plain", "--clock", "virtual"])
        #expect(result.stdout.contains("blocker#1 held the loop 500 ms — every other task waited; due meanwhile: ticker#1, ticker#2"))
        #expect(result.stdout.contains("per task:"))
        #expect(result.stdout.contains("ready (waiting for the loop) 450.0 ms in 5 waits"))
    }

    @Test func aPipeGetsThePlainPictureWithANoteOnStderr() throws {
        let result = try Loopviz.run(["count", "--clock", "virtual"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("not a terminal"))
        #expect(result.stdout.contains("count#3 "))
        #expect(result.stdout.contains("FINISHED"))
    }

    @Test(arguments: [
        (["count", "--tasks", "0"], "--tasks"),
        (["count", "--delay", "-1"], "--delay"),
        (["count", "--speed", "0"], "--speed"),
        (["count", "--clock", "sundial"], "clock"),
        (["event", "--waiters", "many"], "waiters"),
        (["frobnicate"], "frobnicate"),
        (["count", "--plain", "--step"], "--step"),
        (["count", "--tasks", "-1"], "--tasks must be between 1 and 1000 (got -1)"),
        (["echo", "--delay", "-0.5"], "--delay must be between 0 and 3600 seconds (got -0.5)"),
        (["echo", "--clients", "0"], "--clients must be between 1 and 200"),
        (["count", "--record", "/tmp"], "cannot write --record /tmp: it is a folder"),
        (["count", "--chrome-trace", "/nonexistent/dir/c.json"], "cannot write --chrome-trace /nonexistent/dir/c.json: no folder"),
    ])
    func badInputGetsAClearMessageAndAFailingStatus(arguments: [String], mentions: String) throws {
        let result = try Loopviz.run(arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(mentions))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func anUnwritableFileIsRefusedBeforeTheRunStarts() throws {
        // Nothing ran: the program's output ("One", …) never appeared.
        let result = try Loopviz.run(["count", "--plain", "--schedule", "/nonexistent/dir/s.txt"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot write --schedule /nonexistent/dir/s.txt: no folder /nonexistent/dir"))
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: ["--schedule", "--chrome-trace", "--record"])
    func aFolderThatTakesNoNewFileIsRefusedBeforeTheRunStarts(flag: String) throws {
        // /proc exists and root passes access(W_OK) on it, but no file can be created there:
        // checked with access(), --schedule and --chrome-trace failed only after the whole run.
        let started = Date()
        let result = try Loopviz.run(["count", "--plain", "--no-lanes", flag, "/proc/loopviz-out"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot write \(flag) /proc/loopviz-out: no file can be created there"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)  // nothing ran: no "One"
        #expect(Date().timeIntervalSince(started) < 0.9)  // the run itself takes a second
    }

    @Test func aWritablePathIsLeftAsItWasByTheCheck() throws {
        // The check creates a missing file to be sure it can, then removes it: a run refused
        // for another option leaves nothing behind.
        let path = NSTemporaryDirectory() + "loopviz-check-\(getpid()).txt"
        defer { try? FileManager.default.removeItem(atPath: path) }
        // --schedule is checked (and passes) before --chrome-trace is refused.
        let result = try Loopviz.run(["count", "--plain", "--schedule", path, "--chrome-trace", "/proc/loopviz-out"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("cannot write --chrome-trace"))
        #expect(!FileManager.default.fileExists(atPath: path))
        // An existing file is not truncated by the check (the run overwrites it at its end).
        try "kept".write(toFile: path, atomically: false, encoding: .utf8)
        _ = try Loopviz.run(["count", "--plain", "--schedule", path, "--chrome-trace", "/proc/loopviz-out"])
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "kept")
    }

    @Test func versionSaysWhichLoopvizThisIs() throws {
        let result = try Loopviz.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("loopviz "))
    }

    @Test func everySubcommandHasHelp() throws {
        for scenario in ["count", "event"] {
            let result = try Loopviz.run([scenario, "--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("--clock"))
        }
        let top = try Loopviz.run(["--help"])
        #expect(top.stdout.contains("count") && top.stdout.contains("event"))
    }
}
