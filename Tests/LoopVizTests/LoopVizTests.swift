import Foundation
import Loop
import Testing
import Visualizer
@testable import LoopViz

/// The library a user's own program links: options from its arguments and `LOOPVIZ`, and a run.
@Suite("LoopViz library")
struct LoopVizTests {
    @Test func loopvizOptionsAreTakenAndTheProgramKeepsItsOwnArguments() throws {
        let invocation = try LoopViz.parse(arguments: ["--plain", "--clients", "4", "--clock", "virtual", "input.txt"])
        #expect(invocation.options.plain)
        #expect(invocation.options.clock == .virtual)
        #expect(invocation.programArguments == ["--clients", "4", "input.txt"])
    }

    @Test func theEnvironmentGivesOptionsTooAndTheCommandLineWins() throws {
        let invocation = try LoopViz.parse(arguments: ["--speed", "0.5"], environment: ["LOOPVIZ": "--plain --speed 2 --slow-ms 50"])
        #expect(invocation.options.plain)
        #expect(invocation.options.speed == 0.5)
        #expect(invocation.options.slowMilliseconds == 50)
        #expect(invocation.programArguments.isEmpty)
    }

    @Test func theEnvironmentIsSplitOnWhitespaceWithSimpleQuoting() throws {
        #expect(try Options.split("  --plain\t--speed  2 ") == ["--plain", "--speed", "2"])
        #expect(try Options.split(#"--record 'my run.lvt' --schedule "a \"b\".txt" --chrome-trace c\ d.json"#)
            == ["--record", "my run.lvt", "--schedule", #"a "b".txt"#, "--chrome-trace", "c d.json"])
        #expect(try Options.split("--x ''") == ["--x", ""])
        #expect(throws: OptionError.self) { try Options.split("--record 'unclosed") }
        let folder = NSTemporaryDirectory()
        let invocation = try LoopViz.parse(arguments: [], environment: ["LOOPVIZ": "--plain --record '\(folder)my run.lvt'"])
        #expect(invocation.options.recordPath == folder + "my run.lvt")
    }

    @Test func historyBoundsTheModel() throws {
        #expect(try LoopViz.parse(arguments: []).options.historyLimit == LaneModel.defaultHistoryLimit)
        #expect(try LoopViz.parse(arguments: ["--history", "5000"]).options.historyLimit == 5000)
    }

    @Test(arguments: [
        (["--speed"], "--speed needs a value"),
        (["--history", "10"], "--history must be a number from 1000.0 to 1000000000000.0 (got 10)"),
        (["--speed", "fast"], "--speed must be a number from 0.001 to 1000.0 (got fast)"),
        (["--clock", "sundial"], "--clock must be real or virtual (got sundial)"),
        (["--plain", "--step"], "--step needs the terminal UI; it cannot be combined with --plain"),
        (["--record", "/nonexistent/dir/r.lvt"], "cannot write --record /nonexistent/dir/r.lvt: no folder /nonexistent/dir"),
        // A folder that exists but takes no new file (root passes access(W_OK) on it).
        (["--chrome-trace", "/proc/loopviz-c.json"], "cannot write --chrome-trace /proc/loopviz-c.json: no file can be created there (No such file or directory)"),
    ])
    func badOptionsAreOneLineErrors(arguments: [String], message: String) {
        #expect(throws: OptionError(description: message)) { _ = try LoopViz.parse(arguments: arguments) }
    }

    @Test func anUnknownOptionInTheEnvironmentIsRefused() {
        #expect(throws: OptionError(description: "unknown loopviz option --frobnicate")) {
            _ = try LoopViz.parse(arguments: [], environment: ["LOOPVIZ": "--frobnicate"])
        }
    }

    @Test func aProgramRunsOnAFreshLoopAndItsStatusComesBack() {
        var options = RunOptions()
        options.plain = true
        options.lanes = false
        options.clock = .virtual
        let ok = LoopViz.run(LoopProgram(name: "quiet") { loop in
            let worker = loop.spawn("worker") { try await loop.sleep(1) }
            try await worker.value
        }, options: options)
        #expect(ok == 0)
        struct Broken: Error {}
        let failed = LoopViz.run(LoopProgram(name: "broken") { _ in throw Broken() }, options: options)
        #expect(failed == 1)
    }

    /// A terminal that went away answers every write with EIO; /dev/full answers ENOSPC, an
    /// error just as certain. Its error messages must be dropped quietly and the status kept:
    /// `FileHandle.write` would trap instead. In child processes (exit tests), stderr replaced.
    @Test func errorMessagesToAStderrThatFailsKeepTheStatusInsteadOfTrapping() async {
        await #expect(processExitsWith: .exitCode(64)) {
            _ = dup2(open("/dev/full", O_WRONLY), STDERR_FILENO)
            LoopViz.run("demo", arguments: ["demo"], environment: ["LOOPVIZ": "--frobnicate"]) { _ in }
        }
        await #expect(processExitsWith: .exitCode(1)) {
            _ = dup2(open("/dev/full", O_WRONLY), STDERR_FILENO)
            var options = RunOptions()
            options.plain = true
            options.lanes = false
            options.clock = .virtual
            options.schedulePath = "/nonexistent/dir/schedule.txt"  // the run ends in an error
            exit(LoopViz.run(LoopProgram(name: "quiet") { _ in }, options: options))
        }
    }

    /// The end-of-run policy plain output shares with the live screen: a file that cannot be
    /// written does not stop the others from being written; the run then fails.
    @Test func aFileThatCannotBeWrittenLeavesTheOthersAndFailsTheRun() throws {
        let folder = NSTemporaryDirectory() + "loopviz-files-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder + "/gone", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var options = RunOptions()
        options.plain = true
        options.lanes = false
        options.clock = .virtual
        options.schedulePath = folder + "/gone/schedule.txt"  // its folder goes away during the run
        options.chromeTracePath = folder + "/trace.json"
        let status = LoopViz.run(LoopProgram(name: "files") { loop in
            try FileManager.default.removeItem(atPath: folder + "/gone")
            try await loop.sleep(1)
        }, options: options)
        #expect(status == 1)
        #expect(FileManager.default.fileExists(atPath: folder + "/trace.json"))  // written although the schedule failed first
    }
}
