import Foundation
import Visualizer
import Loop
import Synchronization
import Trace

/// `--plain`: runs the scenario with its output on stdout as it happens, then prints the lanes
/// as text (the same grid the live screen draws) and who woke whom.
public enum PlainRun {
    /// Runs `run` and returns the process exit status (0, or 1 when the program failed).
    public static func execute(_ run: ProgramRun) throws -> Int32 {
        let options = run.options
        let ring = TraceRing(capacity: options.ringCapacity)
        let names = NameTable()
        let loop = EventLoop(clock: options.makeClock(), ring: ring, names: names)
        loop.onOutput = { line, _ in
            StandardStream.output.write(line + "\n")
        }
        // Built as the records arrive (on a thread of its own, from the ring as a TraceSource),
        // so a long run's history stays within `--history`: the live screen's ingest path.
        let recorder = try makeRecorder(options, names: names, scenario: run.program.name, clock: loop.clock.kind)
        let building = IngestThread(ingest: TraceIngest(model: options.makeModel(names: names), recorder: recorder),
                                    source: RingSource(ring: ring))
        building.start()
        var failure: (any Error)?
        do {
            try run.program.run(on: loop)
        } catch {
            failure = error
        }
        var ingest = try building.stop()
        let recordError = ingest.finish(ringDropped: ring.dropped)
        let model = ingest.model
        // The live screen's end-of-run policy (writeRunFiles): what can be written is, then the
        // problems are reported after the picture.
        let problems = writeRunFiles(model, options: options, program: run.program.name, recordError: recordError)
        if options.lanes {
            print(picture(model, scenario: run.program.name, clock: loop.clock.kind, width: options.width ?? terminalWidth(), tree: options.tree))
        }
        if options.loopState { print(LoopStatePanel.everyStep(model)) }
        fflush(nil)  // the picture (print) before the problems (write(2))
        for problem in problems { StandardStream.error.write("loopviz: \(problem)\n") }
        if let failure {
            StandardStream.error.write("loopviz: \(run.program.name): \(failure)\n")
            return 1
        }
        return problems.isEmpty ? 0 : 1
    }

    /// The text that follows the output: lanes, legend, wake-ups.
    public static func picture(_ model: LaneModel, scenario: String, clock: ClockKind, width: Int, glyphs: GlyphSet = .default,
                               tree: Bool = false) -> String {
        var view = ViewState(scenario: scenario, clock: clock)
        view.mode = .finished
        view.glyphs = glyphs
        view.treeOrder = tree
        var text = "\n" + ScreenLayout.plain(model: model, view: view, width: width).text + "\n"
        view.axis = .step
        text += "\n" + ScreenLayout.plain(model: model, view: view, width: width).text + "\n"
        text += "\n" + HelpOverlay.legendLines(glyphs).joined(separator: "\n") + "\n"
        let wakes = model.wakes.map { edge in
            let by = edge.waker == .none ? "" : " by \(model.names.name(edge.waker))"
            let via = edge.via == .none ? "" : " via \(model.names.name(edge.via))"
            return "  \(ScheduleFormat.formatSeconds(Double(edge.time) / 1e9)) \(model.names.name(edge.woken)) woken: \(edge.cause.words)\(by)\(via)"
        }
        if !wakes.isEmpty { text += "\nwake-ups:\n" + wakes.joined(separator: "\n") + "\n" }
        text += diagnostics(model)
        return text
    }

    /// Slow steps, then one block of figures per lane.
    static func diagnostics(_ model: LaneModel) -> String {
        var text = "\ndiagnostics:\n"
        if !model.stuckTasks.isEmpty {
            text += "  deadlock: nothing can ever run again\n" + model.stuckTasks.map { "    \($0)\n" }.joined()
        }
        if model.slowSteps.isEmpty {
            text += "  no step held the loop \(model.slowStepThreshold / 1_000_000) ms or more\n"
        }
        for slow in model.slowSteps {
            let slowEnd = slow.start + slow.duration
            let late = model.lanes.filter { $0.id != slow.who && $0.kind == .task }.filter { lane in
                // Segments are in time order: from the first that ends after the stall began, by
                // binary search (a scan of every segment per slow step was quadratic).
                let segments = model.segments(of: lane)
                var index = Search.partition(segments.count) { (segments[$0].endTime ?? .max) <= slow.start }
                while index < segments.count, segments[index].startTime < slowEnd {
                    if segments[index].state == .ready { return true }
                    index += 1
                }
                return false
            }.map(\.name)
            text += "  \(ScheduleFormat.formatSeconds(Double(slow.start) / 1e9)) \(model.names.name(slow.who)) held the loop "
                + "\(Int((Double(slow.duration) / 1e6).rounded())) ms — every other task waited"
                + (late.isEmpty ? "\n" : "; due meanwhile: \(late.joined(separator: ", "))\n")
        }
        for warning in model.warnings {
            text += "  \(ScheduleFormat.formatSeconds(Double(warning.time) / 1e9)) \(model.names.name(warning.who)) \(warning.text)\n"
        }
        if model.firstRecordIndex > 0 {
            text += "  history: the oldest \(model.firstRecordIndex) of \(model.eventCount) events (steps 1–\(model.trimmedSteps)) "
                + "left memory (--history); the figures below still count them\n"
        }
        text += "\nper task:\n"
        for lane in model.lanes {
            let lines = TaskStatistics.of(lane, in: model, now: model.lastTime).lines
            text += "  " + lines.joined(separator: "\n    ") + "\n"
        }
        if model.retiredLanes > 0 {
            let totals = model.retiredTotals
            text += "  \(model.retiredLanes) finished lanes retired from memory: \(totals.steps) steps, running "
                + "\(TaskStatistics.ms(totals.running)), ready \(TaskStatistics.ms(totals.ready)) in \(totals.waits) waits\n"
        }
        return text
    }

    public static func terminalWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns >= 20 { return columns }
        return 100
    }
}

