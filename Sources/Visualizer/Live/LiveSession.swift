import Foundation
import Loop
import Synchronization
import Trace

/// The live screen: the loop runs on a thread of its own; this (UI) thread owns ncurses, drains
/// the trace ring into the lane model, applies keys and redraws ~30 times a second while
/// anything moves. However the screen ends, the loop is stopped and its thread waited for
/// (within ``loopStopBound`` seconds) before the process may exit.
public final class LiveSession: ScreenSession {
    private let run: ProgramRun
    private let ring: TraceRing
    private let names = NameTable()
    private let clock: LiveClock
    private let controller: StepController
    /// Records from the ring go into the model (and the recording) through here.
    private var ingest: TraceIngest
    private var model: LaneModel { ingest.model }
    private var view: ViewState
    private let loopState = SharedOutcome()
    /// Created here, on the UI thread, and run on the loop thread: the UI stops it.
    private var loop: EventLoop?
    /// Signalled by the loop thread as the last thing it does.
    private let loopThreadEnded = DispatchSemaphore(value: 0)
    /// The loop thread did not end within ``loopStopBound`` seconds after it was stopped.
    private var loopAbandoned = false
    /// How many seconds a stopped loop may take to wind down before loopviz exits without it. A
    /// stopped loop runs a bounded number of passes and never waits for time, I/O or the step
    /// gate: only a task that blocks its thread can hold it this long.
    static let loopStopBound = 3

    private enum LoopOutcome: Sendable {
        case running, finished
        /// Ended by ``EventLoop/stop()``: the session was closed before the program finished.
        case stopped
        case failed(String)
    }

    /// How the loop thread's run ended, read by the UI thread.
    private final class SharedOutcome: Sendable {
        private let value = Mutex<LoopOutcome>(.running)
        func set(_ outcome: LoopOutcome) { value.withLock { $0 = outcome } }
        var current: LoopOutcome { value.withLock { $0 } }
    }

    public init(run: ProgramRun) {
        self.run = run
        ring = TraceRing(capacity: run.options.ringCapacity)
        let startStepping = run.options.step
        // Virtual clock: never flows. Real: flows, except in step mode.
        clock = LiveClock(speed: run.options.speed, flowing: run.options.clock == .real && !startStepping)
        controller = StepController(stepping: startStepping)
        ingest = TraceIngest(model: run.options.makeModel(names: names), recorder: nil)
        view = ViewState(scenario: run.program.name, clock: run.options.clock == .real ? .real(speed: run.options.speed) : .virtual)
        view.mode = startStepping ? .step : .live
        view.glyphs = .default
        view.treeOrder = run.options.tree
    }

    /// Runs the session; returns what to print and how it ended, or nil when no terminal UI could start.
    public func execute() throws -> SessionOutcome? {
        ingest = TraceIngest(model: ingest.model, recorder: try makeRecorder(run.options, names: names, scenario: run.program.name, clock: view.clock))
        let screen = ScreenDriver.run(self, afterStart: startLoopThread, beforeClose: { _ in stopLoopThread() })
        guard let (ending, captured, leftover) = screen else { return nil }
        view.capturedLines = captured
        var outcome = finish(quietly: ending == .hungUp)
        outcome.messages = leftover + outcome.messages
        outcome.ending = ending.outcome(failed: outcome.ending == .failed)
        return outcome
    }

    // MARK: - The loop thread

    private func startLoopThread() {
        let loop = EventLoop(clock: clock, ring: ring, names: names)
        loop.stepGate = controller
        self.loop = loop
        let program = run.program
        let thread = Thread { [loopState, loopThreadEnded] in
            defer { loopThreadEnded.signal() }
            do {
                try program.run(on: loop)
                loopState.set(.finished)
            } catch LoopError.stopped {
                loopState.set(.stopped)
            } catch {
                loopState.set(.failed("\(error)"))
            }
        }
        thread.name = "loopviz-loop"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the loop (a no-op when it has finished), lets it past the step gate it may be
    /// waiting at, and waits for its thread to end — so no loop thread still runs the program
    /// while the process exits, and the trace and the recording end with the stopped run.
    private func stopLoopThread() {
        guard let loop else { return }
        loop.stop()
        controller.release()
        if loopThreadEnded.wait(timeout: .now() + .seconds(Self.loopStopBound)) == .timedOut { loopAbandoned = true }
    }

    // MARK: - UI thread

    /// Moves every record the loop wrote into the model (and the recording). Returns whether
    /// there were any.
    private func drainTrace() -> Bool {
        var source = RingSource(ring: ring)
        // Finished lanes may retire: the selection stays on its lane, by id.
        let selected = model.lanes.indices.contains(view.selectedLane) ? model.lanes[view.selectedLane].id : nil
        let retired = model.retiredLanes
        guard ingest.take(source.take()) else { return false }
        if model.retiredLanes != retired {
            view.selectedLane = selected.flatMap { model.laneIndex(of: $0) } ?? 0
            view.laneScroll = 0
        }
        // A cursor on a step that left memory moves to the oldest one kept.
        if let cursor = view.cursor, cursor < model.firstCursor {
            view.cursor = model.firstCursor
            view.notice = model.oldestStepNotice
        }
        return true
    }

    // MARK: - ScreenSession

    func update() -> Bool {
        let fresh = drainTrace()
        return updateMode() || fresh
    }

    var isMoving: Bool { view.mode == .live && clock.isFlowing }

    var acceptsText: Bool { view.filterDraft != nil }

    func frame(width: Int, height: Int, captured: [String]) -> Grid {
        view.now = run.options.clock == .real ? clock.now() : model.lastTime
        view.capturedLines = captured
        return ScreenLayout.screen(model: model, view: view, width: width, height: height)
    }

    /// Follows the loop: finished, or waiting at a step. Returns whether the view changed.
    private func updateMode() -> Bool {
        let before = view
        view.clockFrozen = !clock.isFlowing
        switch loopState.current {
        case .running:
            view.nextStep = controller.pendingStep.map { StepDescription.describe(preview: $0, names: names) }
            view.nextPreview = controller.pendingStep
        case .finished, .stopped:
            // The loop wrote its last records before it said it had finished: take them now, so
            // the FINISHED frame is never drawn from a model that lacks the end of the run.
            _ = drainTrace()
            view.mode = .finished
            view.nextStep = nil
            view.nextPreview = nil
        case .failed(let message):
            _ = drainTrace()
            view.mode = .finished
            view.nextStep = nil
            view.nextPreview = nil
            view.runError = message
        }
        return before != view
    }

    /// Applies one key's action (quitting is the driver's).
    func apply(_ action: UIAction) {
        let steps = model.stepCount
        view.notice = nil
        switch action {
        case .quit, .interrupt: return
        case .togglePause:
            if view.mode == .live { pauseLoop(as: .paused) } else if view.mode == .paused || view.mode == .step { resumeLoop() }
        case .enterStepMode:
            if view.mode == .live || view.mode == .paused { pauseLoop(as: .step) }
        case .runOn:
            view.cursor = nil
            if view.mode == .paused || view.mode == .step { resumeLoop() }
        case .stepForward:
            if let cursor = view.cursor, cursor < steps {
                view.cursor = cursor + 1 == steps ? nil : cursor + 1
            } else if view.mode == .step || view.mode == .paused {
                view.mode = .step
                controller.grantStep()
            } else if view.mode == .live {
                pauseLoop(as: .step)
            }
        case .stepBack:
            let shown = model.shownStep(view.cursor)
            if shown <= model.firstCursor && model.trimmedSteps > 0 { view.notice = model.oldestStepNotice }
            view.cursor = max(model.firstCursor, shown - 1)
        case .first: view.cursor = model.trimmedSteps > 0 ? model.firstCursor : min(1, steps)
        case .last: view.cursor = nil
        case .jump(let jump):
            // Only the history moves, as with `b`: the loop runs on (or waits) as it did. Reaching
            // the newest step is the live edge again.
            if let step = model.jumpTarget(jump, from: model.shownStep(view.cursor), lane: view.selectedLane) {
                view.cursor = step >= steps ? nil : step
            } else {
                view.notice = model.noJumpNotice(jump, lane: view.selectedLane)
            }
        default: _ = view.applyViewAction(action, model: model)
        }
    }

    private func pauseLoop(as mode: RunMode) {
        controller.enterStepMode()
        clock.freeze()
        view.mode = mode
    }

    private func resumeLoop() {
        if run.options.clock == .real { clock.thaw() }
        controller.runOn()
        view.mode = .live
    }

    /// After the screen is closed: the program's output (as the Python program would have left
    /// it in the terminal), any stray output captured meanwhile, and whether the run failed. The
    /// files asked for are written in any case (``writeRunFiles``). `quietly` (a hang-up): no
    /// output, and the messages are for a stderr that is not the terminal that went away.
    private func finish(quietly: Bool) -> SessionOutcome {
        while drainTrace() {}
        // Closed only once the loop thread has ended: a loop still running leaves a cut recording,
        // as a killed run does.
        var loopEnded = true
        if case .running = loopState.current { loopEnded = false }
        let recordError = ingest.finish(ringDropped: ring.dropped, complete: loopEnded)
        var outcome = SessionOutcome(ending: .finished, hungUp: quietly)
        if !quietly {
            outcome.output = model.log.map { $0.text + "\n" }.joined() + view.capturedLines.map { $0 + "\n" }.joined()
        }
        if !quietly, let first = model.log.first, model.firstRecordIndex > 0 {
            outcome.messages.append("loopviz: the output above starts at t=\(ScheduleFormat.formatSeconds(Double(first.time) / 1e9))s: "
                + "the oldest \(model.firstRecordIndex) events left memory (--history)\(run.options.recordPath.map { "; \($0) keeps them" } ?? "")")
        }
        if loopAbandoned {
            outcome.messages.append("loopviz: the loop thread did not stop within \(Self.loopStopBound) s; exiting without it")
        }
        let problems = writeRunFiles(model, options: run.options, program: run.program.name, recordError: recordError)
        outcome.messages += problems.map { "loopviz: \($0)" }
        if !problems.isEmpty || loopAbandoned {
            outcome.ending = .failed
        } else if case .failed(let message) = loopState.current {
            outcome.messages.append("loopviz: \(run.program.name): \(message)")
            outcome.ending = .failed
        }
        return outcome
    }
}
