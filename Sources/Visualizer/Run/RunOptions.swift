import Foundation
import Loop
import Trace

/// How to run a scenario, as the command line said.
public struct RunOptions: Sendable {
    public enum ClockChoice: String, Sendable, CaseIterable { case real, virtual }

    public var clock: ClockChoice = .real
    public var speed: Double = 1
    /// No terminal UI: output to stdout, then the lanes as text.
    public var plain = false
    /// Print the lanes after the output in plain mode.
    public var lanes = true
    /// Start in step-through mode (virtual clock, the loop waits for a key before each step).
    public var step = false
    /// Write the schedule (asyncio_trace.py's format) to this file.
    public var schedulePath: String?
    /// Width of the plain picture; nil: `$COLUMNS` or 100.
    public var width: Int?
    /// A step that holds the loop at least this long is flagged (asyncio debug mode: 100 ms).
    public var slowMilliseconds: Double = 100
    /// Record the whole trace to this file while the run goes on.
    public var recordPath: String?
    /// Write the Chrome Trace Event Format (Perfetto) to this file when the run ends.
    public var chromeTracePath: String?
    /// With `plain`: after the pictures, the loop's own state (ready queue, timers, waiters)
    /// before every step.
    public var loopState = false
    /// Order the lanes as the spawn tree (children indented under their spawner), on screen
    /// and in the `--plain` pictures.
    public var tree = false
    /// Serve the trace on this Unix socket (`loopviz attach PATH`) instead of showing it.
    public var servePath: String?
    /// Trace ring capacity in records.
    public var ringCapacity = 1 << 16
    /// Most events the viewer keeps in memory (older ones leave it; a `--record` file keeps
    /// them). The default fits in about 70 MB.
    public var historyLimit = LaneModel.defaultHistoryLimit

    public init() {}

    /// The clock the loop runs on (step mode always runs on virtual time: time must not pass
    /// while the loop waits for a key).
    public func makeClock() -> any LoopClock {
        clock == .virtual || step ? VirtualClock() : RealClock(speed: speed)
    }
}

/// Any program to run on a fresh loop and show: a name (for the header, recordings and
/// messages) and its async main, asyncio's `main()`. The shipped scenarios are such programs,
/// and so is a user's own.
public struct LoopProgram: Sendable {
    public var name: String
    public var main: @Sendable (EventLoop) async throws -> Void

    public init(name: String, main: @escaping @Sendable (EventLoop) async throws -> Void) {
        self.name = name
        self.main = main
    }

    /// Runs the program to completion on `loop` (asyncio's `asyncio.run(main())`).
    public func run(on loop: EventLoop) throws {
        let main = self.main
        try loop.run("main") { try await main(loop) }
    }
}

/// A program ready to run, with how to show it.
public struct ProgramRun: Sendable {
    public var program: LoopProgram
    public var options: RunOptions

    public init(program: LoopProgram, options: RunOptions) {
        self.program = program
        self.options = options
    }
}

extension RunOptions {
    /// An empty model with the run's diagnostics settings.
    public func makeModel(names: NameTable) -> LaneModel {
        var model = LaneModel(names: names)
        model.slowStepThreshold = Int64(slowMilliseconds * 1e6)
        model.historyLimit = historyLimit
        return model
    }
}

/// Writes the Chrome trace to `path`, if one was asked for.
public func writeChromeTrace(_ model: LaneModel, process: String, to path: String?) throws {
    guard let path else { return }
    do {
        try ChromeTrace.json(model, process: process).write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw RunError.cannotWrite(path: path, reason: error.localizedDescription)
    }
}

/// Opens the recording the options ask for, if any.
public func makeRecorder(_ options: RunOptions, names: NameTable, scenario: String, clock: ClockKind) throws -> TraceFileWriter? {
    guard let path = options.recordPath else { return nil }
    do {
        return try TraceFileWriter(path: path, names: names, meta: ["scenario": scenario, "clock": "\(clock)"])
    } catch let error as TraceFileError {
        throw RunError.cannotWrite(path: path, reason: error.message)
    }
}

/// Writes the schedule to the options' file, if one was asked for: the steps still in memory
/// (all of them unless the run outgrew `--history`).
public func writeSchedule(_ model: LaneModel, to path: String?) throws {
    guard let path else { return }
    let text = ScheduleFormat.text(Array(model.records), names: model.names)
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw RunError.cannotWrite(path: path, reason: error.localizedDescription)
    }
}

/// Errors a run reports to the user (one line, exit status 1).
public enum RunError: Error, CustomStringConvertible {
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}

/// The end of every run, on the live screen and in plain output alike: one error policy. Every
/// file asked for that can be written is written — a recording that failed midway does not
/// cost the user the schedule, the Chrome trace or the picture — and each one that could not is
/// one problem in the list, which the caller reports after the run's output (exit status 1).
public func writeRunFiles(_ model: LaneModel, options: RunOptions, program: String, recordError: String?) -> [String] {
    var problems: [String] = []
    do { try writeSchedule(model, to: options.schedulePath) } catch { problems.append("\(error)") }
    do { try writeChromeTrace(model, process: "loopviz \(program)", to: options.chromeTracePath) } catch { problems.append("\(error)") }
    if let recordError { problems.append("recording: \(recordError)") }
    return problems
}
