import ArgumentParser
import LoopViz
import Foundation
import Scenarios
import Visualizer

/// Options every scenario subcommand shares.
struct RunArguments: ParsableArguments {
    @Option(help: "The loop's clock: real (wall time) or virtual (instant, deterministic).")
    var clock: RunOptions.ClockChoice = .real

    @Option(parsing: .unconditional, help: "Time scale of the real clock: 0.25 makes each loop second last 4 s.")
    var speed: Double = 1

    @Flag(help: "No terminal UI: print the output, then the lanes as text (default when stdout is not a terminal).")
    var plain = false

    @Flag(inversion: .prefixedNo, help: "With --plain, print the lanes after the output.")
    var lanes = true

    @Flag(help: "Step-through mode: the loop waits before each scheduling step (virtual clock).")
    var step = false

    @Option(name: .customLong("schedule"), help: ArgumentHelp("Write the schedule (asyncio_trace.py's format) to FILE.", valueName: "FILE"))
    var schedulePath: String?

    @Option(parsing: .unconditional, help: "Flag a step that holds the loop at least this many milliseconds (asyncio debug mode: 100).")
    var slowMs: Double = 100

    @Option(name: .customLong("record"), help: ArgumentHelp("Record the whole trace to FILE while it runs (replay it with loopviz replay).", valueName: "FILE"))
    var recordPath: String?

    @Option(name: .customLong("chrome-trace"), help: ArgumentHelp("Write the run in Chrome Trace Event Format (Perfetto) to FILE.", valueName: "FILE"))
    var chromeTracePath: String?

    @Option(parsing: .unconditional, help: "Width of the --plain picture (default: $COLUMNS or 100).")
    var width: Int?

    @Option(name: .customLong("serve"), help: ArgumentHelp("Run without a screen and serve the loop on this Unix socket for loopviz attach (its folder must be yours alone).", valueName: "SOCKET"))
    var servePath: String?

    @Flag(help: "With --plain: after the pictures, the loop's own state (ready queue and why, timers, waiters) after every step.")
    var loopState = false

    @Flag(help: "Order the lanes as the spawn tree: each task under the task that spawned it, indented (T toggles it on screen).")
    var tree = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Keep at most N events in memory; older ones leave the screen, a --record file keeps them (default: \(LaneModel.defaultHistoryLimit), about 70 MB).", valueName: "N"))
    var history = LaneModel.defaultHistoryLimit

    func validate() throws {
        try Check.display(speed: speed, width: width, slowMs: slowMs)
        try Check.history(history)
        if step && plain {
            throw ValidationError("--step needs the terminal UI; it cannot be combined with --plain")
        }
        // Checked before the run, not after it: a run may last long, and its files are its point.
        try Check.writable(schedulePath, "--schedule")
        try Check.writable(recordPath, "--record")
        try Check.writable(chromeTracePath, "--chrome-trace")
    }

    var options: RunOptions {
        var options = RunOptions()
        options.clock = clock
        options.speed = speed
        options.plain = plain
        options.lanes = lanes
        options.step = step
        options.schedulePath = schedulePath
        options.width = width
        options.slowMilliseconds = slowMs
        options.recordPath = recordPath
        options.chromeTracePath = chromeTracePath
        options.loopState = loopState
        options.tree = tree
        options.historyLimit = history
        return options
    }

    /// Runs the scenario in the UI the options and the terminal call for; exits with its status.
    func run(_ scenario: any Scenario) throws {
        let program = LoopProgram(name: scenario.name) { loop in try await scenario.main(on: loop) }
        if let servePath {
            let status = LoopViz.serve(program, options: options, path: servePath)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let status = try Launcher.run(ProgramRun(program: program, options: options))
        if status != 0 { throw ExitCode(status) }
    }
}

extension RunOptions.ClockChoice: ExpressibleByArgument {}

/// Shared validation of scenario parameters.
enum Check {
    static func delay(_ value: Double, _ flag: String = "--delay") throws {
        guard value.isFinite, value >= 0, value <= 3600 else {
            throw ValidationError("\(flag) must be between 0 and 3600 seconds (got \(value))")
        }
    }

    /// The options a run and a replay share: `--speed`, `--width`, `--slow-ms`.
    static func display(speed: Double, width: Int?, slowMs: Double) throws {
        guard speed.isFinite, speed > 0, speed <= 1000 else {
            throw ValidationError("--speed must be a number above 0 and at most 1000 (got \(speed))")
        }
        if let width, width < 20 || width > 1000 {
            throw ValidationError("--width must be between 20 and 1000 (got \(width))")
        }
        guard slowMs.isFinite, slowMs > 0, slowMs <= 3_600_000 else {
            throw ValidationError("--slow-ms must be above 0 and at most 3600000 (got \(slowMs))")
        }
    }

    /// A file the run will write, tried before the run starts (``OutputPath``).
    static func writable(_ path: String?, _ flag: String) throws {
        guard let path else { return }
        if let problem = OutputPath.problem(with: path) { throw ValidationError("cannot write \(flag) \(path): \(problem)") }
    }

    /// `--history N`: enough events for a screenful of steps.
    static func history(_ value: Int) throws {
        guard value >= 1000 else {
            throw ValidationError("--history must be at least 1000 events (got \(value))")
        }
    }

    static func count(_ value: Int, _ flag: String, max: Int = 1000) throws {
        guard (1...max).contains(value) else {
            throw ValidationError("\(flag) must be between 1 and \(max) (got \(value))")
        }
    }
}
