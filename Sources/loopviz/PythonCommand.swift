import ArgumentParser
import Foundation
import LoopViz
import PythonBridge
import Visualizer

struct PythonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "python",
        abstract: "Watch a real CPython asyncio program's loop: loopviz python SCRIPT.py [ARGS…].",
        discussion: """
            Runs python3 on the script with loopviz's instrumentation module (written to a private \
            temporary folder; nothing to install) and shows its loop as the built-in programs are \
            shown: lanes, stepping both ways, --plain, --record, --chrome-trace, --schedule. Only \
            asyncio's standard event loop can be shown. Options loopviz does not know go to the \
            script; put the script's own after -- when a name clashes (loopviz python app.py -- --plain). \
            Under the live screen the program's stdin is /dev/null; with --plain it is loopviz's.
            """
    )

    @Option(help: ArgumentHelp("The Python interpreter to run.", valueName: "PATH")) var python = "python3"
    @Flag(help: "No terminal UI: print the output as it comes, then the lanes as text (default when stdout is not a terminal).")
    var plain = false
    @Flag(inversion: .prefixedNo, help: "With --plain, print the lanes after the output.") var lanes = true
    @Flag(help: "Step-through mode: the program waits before each scheduling step (its loop's clock stands still meanwhile).")
    var step = false
    @Option(name: .customLong("schedule"), help: ArgumentHelp("Write the schedule (asyncio_trace.py's format) to FILE.", valueName: "FILE"))
    var schedulePath: String?
    @Option(parsing: .unconditional, help: "Flag a step that holds the loop at least this many milliseconds (asyncio debug mode: 100).")
    var slowMs: Double = 100
    @Option(name: .customLong("record"), help: ArgumentHelp("Record the whole trace to FILE (replay it with loopviz replay).", valueName: "FILE"))
    var recordPath: String?
    @Option(name: .customLong("chrome-trace"), help: ArgumentHelp("Write the run in Chrome Trace Event Format (Perfetto) to FILE.", valueName: "FILE"))
    var chromeTracePath: String?
    @Option(parsing: .unconditional, help: "Width of the --plain picture (default: $COLUMNS or 100).") var width: Int?
    @Flag(help: "With --plain: after the pictures, the loop's own state after every step.") var loopState = false
    @Flag(help: "Order the lanes as the spawn tree.") var tree = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Keep at most N events in memory (default: \(LaneModel.defaultHistoryLimit)).", valueName: "N"))
    var history = LaneModel.defaultHistoryLimit
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("The script, then its own arguments.", valueName: "SCRIPT.py [ARGS…]"))
    var program: [String] = []

    func validate() throws {
        guard let script = program.first else { throw ValidationError("name the Python script to run: loopviz python SCRIPT.py [ARGS…]") }
        guard !script.hasPrefix("-") || FileManager.default.fileExists(atPath: script) else {
            throw ValidationError("unknown option '\(script)' before the script (loopviz python [OPTIONS] SCRIPT.py [ARGS…])")
        }
        try Check.display(speed: 1, width: width, slowMs: slowMs)
        try Check.history(history)
        if step && plain { throw ValidationError("--step needs the terminal UI; it cannot be combined with --plain") }
        try Check.writable(schedulePath, "--schedule")
        try Check.writable(recordPath, "--record")
        try Check.writable(chromeTracePath, "--chrome-trace")
    }

    func run() throws {
        var options = PythonRun.Options(script: program[0])
        // The first `--` only ends loopviz's options; what follows is the script's, as given.
        var arguments = Array(program.dropFirst())
        if let terminator = arguments.firstIndex(of: "--") { arguments.remove(at: terminator) }
        options.arguments = arguments
        options.python = python
        options.plain = plain
        options.lanes = lanes
        options.step = step
        options.schedulePath = schedulePath
        options.slowMilliseconds = slowMs
        options.recordPath = recordPath
        options.chromeTracePath = chromeTracePath
        options.width = width
        options.loopState = loopState
        options.tree = tree
        options.historyLimit = history
        do {
            let status = try PythonRun.run(options)
            if status != 0 { throw ExitCode(status) }
        } catch let error as PythonRunError {
            StandardStream.error.write("loopviz: \(error)\n")
            throw ExitCode(error == .noScript(options.script) ? 66 : 1)
        }
    }
}
