import Foundation
import Loop
import Trace

/// `loopviz replay FILE`: a recorded run in the live screen, with no loop running. It plays at
/// the recorded pace (× speed) by moving the history cursor forward in time; every stepping
/// key works both ways over the whole run.
public final class ReplaySession: ScreenSession {
    private let model: LaneModel
    /// Read by tests; changed only by the session.
    private(set) var view: ViewState
    private let speed: Double
    /// Loop time shown, and the wall time it was at when playback last (re)started.
    private var playTime: Int64 = 0
    private var playAnchor = ContinuousClock.now
    private var playing: Bool

    public init(model: LaneModel, scenario: String, clock: ClockKind, speed: Double, startPaused: Bool, tree: Bool = false) {
        self.model = model
        self.speed = speed
        view = ViewState(scenario: scenario, clock: clock)
        view.glyphs = .default
        view.clockFrozen = false
        playing = !startPaused
        view.mode = startPaused ? .step : .live
        view.cursor = model.firstCursor
        view.playhead = model.time(ofStep: model.firstCursor)
        view.fixedHorizon = model.lastTime
        view.treeOrder = tree
    }

    /// Runs the replay; nil when no terminal UI could start.
    public func execute() -> SessionOutcome? {
        guard let (ending, _, leftover) = ScreenDriver.run(self) else { return nil }
        return SessionOutcome(ending: ending.outcome(failed: false), messages: leftover, hungUp: ending == .hungUp)
    }

    // MARK: - ScreenSession

    var isMoving: Bool { playing }

    var acceptsText: Bool { view.filterDraft != nil }

    /// Moves the play position on. Reports a change only when a step was crossed: between
    /// steps the driver's ~30 fps frames (``isMoving``) keep the lanes growing.
    func update() -> Bool {
        guard playing else { return false }
        let elapsed = ContinuousClock.now - playAnchor
        let wall = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        let before = (view.cursor, view.mode)
        moveCursor(toTime: playTime + Int64(wall * speed))
        return before != (view.cursor, view.mode)
    }

    func frame(width: Int, height: Int, captured: [String]) -> Grid {
        view.capturedLines = captured
        return ScreenLayout.screen(model: model, view: view, width: width, height: height)
    }

    func apply(_ action: UIAction) {
        let steps = model.stepCount
        let cursor = model.shownStep(view.cursor)
        view.notice = nil
        switch action {
        case .quit, .interrupt, .resize: return
        case .togglePause:
            if playing { pause(as: .paused) } else { play() }
        case .runOn: play()
        case .enterStepMode: pause(as: .step)
        case .stepForward:
            pause(as: .step)
            setCursor(min(cursor + 1, steps))
        case .stepBack:
            pause(as: .step)
            if cursor <= model.firstCursor && model.trimmedSteps > 0 { view.notice = model.oldestStepNotice }
            setCursor(max(cursor - 1, model.firstCursor))
        case .first:
            pause(as: .step)
            setCursor(model.trimmedSteps > 0 ? model.firstCursor : min(1, steps))
        case .last:
            pause(as: .step)
            setCursor(steps)
        case .jump(let jump):
            // A jump stops playback where it lands, as a step key does.
            guard let step = model.jumpTarget(jump, from: min(cursor, steps), lane: view.selectedLane) else {
                view.notice = model.noJumpNotice(jump, lane: view.selectedLane)
                return
            }
            pause(as: .step)
            setCursor(step)
        default: _ = view.applyViewAction(action, model: model)
        }
    }

    // MARK: - Playback

    private func play() {
        if (view.cursor ?? model.stepCount) >= model.stepCount { setCursor(model.firstCursor) }  // from the start again
        playing = true
        playAnchor = .now
        view.mode = .live
    }

    private func pause(as mode: RunMode) {
        if playing { playTime = view.playhead ?? playTime }
        playing = false
        view.mode = mode
    }

    /// Shows the run up to `time`: every step at or before it.
    private func moveCursor(toTime time: Int64) {
        let shown = model.trimmedSteps + Search.partition(model.steps.count) { model.steps[$0].time <= time }
        view.cursor = max(shown, model.firstCursor)
        view.playhead = time
        if time >= model.lastTime {
            view.cursor = nil
            view.playhead = nil
            playing = false
            view.mode = .finished
        }
    }

    private func setCursor(_ step: Int) {
        view.cursor = step >= model.stepCount ? nil : step
        playTime = model.time(ofStep: step)
        view.playhead = view.cursor == nil ? nil : playTime
        if view.cursor == nil && !playing { view.mode = .finished }
    }
}
