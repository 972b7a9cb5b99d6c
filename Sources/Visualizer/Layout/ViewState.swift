import Loop
import Trace

/// What the lanes are laid out along.
public enum TimeAxis: Sendable, Equatable {
    /// Loop time: sleeps are long, slices short (each slice still gets at least one cell).
    case time
    /// One column per scheduling step, like a sequence diagram: the order of events.
    case step
}

/// The run's state as the header shows it.
public enum RunMode: String, Sendable, Equatable {
    case live = "LIVE", paused = "PAUSED", step = "STEP", finished = "FINISHED"
}

/// Everything besides the model that decides what a frame shows. Plain value, set by the UI's
/// key handling, read by the layout.
public struct ViewState: Sendable, Equatable {
    public var scenario: String
    public var clock: ClockKind
    /// The loop's time stands still (step mode, paused, or the virtual clock between steps).
    public var clockFrozen = false
    public var mode: RunMode = .live
    public var axis: TimeAxis = .time
    /// Each step of zoom halves the visible time span (time axis) or... the visible step count.
    public var zoom: Int = 0
    /// How far the time window is panned back from its end, in quarters of a window.
    public var pan: Int = 0
    /// First lane shown (lanes scroll when there are more than fit).
    public var laneScroll: Int = 0
    /// The step the picture shows the run up to; nil: the newest step (the live edge).
    public var cursor: Int?
    /// Loop time "now" for the live edge (the loop's clock, which runs on between records).
    public var now: Int64 = 0
    /// A replay's play position: with a cursor, the lanes are drawn up to this time (not only up
    /// to the cursor's step), so they grow smoothly between steps.
    public var playhead: Int64?
    /// When set, the time axis always spans up to this time (a replay knows its whole length,
    /// so the ruler does not rescale while it plays).
    public var fixedHorizon: Int64?
    /// What the loop will do next, in words, when it waits in step mode.
    public var nextStep: String?
    /// That step as the loop announced it (so the state panel can take it off the ready queue).
    public var nextPreview: StepPreview?
    public var showHelp = false
    /// The lane the stats panel describes and the jump keys follow (an index into the model's
    /// lanes, so it stays the same lane when the filter or the order changes).
    public var selectedLane = 0
    /// Only lanes whose name contains this (in any case) are shown; empty: every lane.
    public var laneFilter = ""
    /// The filter being typed after `/`: set while the prompt is open (keys are text then, and
    /// the lanes already follow what is typed); nil otherwise.
    public var filterDraft: String?
    /// Hide the lanes that had finished by the step shown (`f`).
    public var hideFinished = false
    /// Order the lanes as the spawn tree, children indented under their spawner (`--tree`, `T`);
    /// otherwise in creation order.
    public var treeOrder = false
    /// Show the per-task figures of the selected lane.
    public var showStats = false
    /// Show the loop's own state (ready queue, timers, waiters) in place of the log.
    public var showLoopState = false
    /// A one-off word for the status line (a jump that found no step), until the next key.
    public var notice: String?
    /// The run's error (a deadlock, a task that threw), shown on the status line.
    public var runError: String?
    /// Stray stdout/stderr lines captured while the screen is up, shown in the log pane.
    public var capturedLines: [String] = []
    public var glyphs: GlyphSet = .unicode
    /// Width of the lane-name column; nil: fit the names (at most a third of the width).
    public var labelWidth: Int?

    public init(scenario: String, clock: ClockKind) {
        self.scenario = scenario
        self.clock = clock
    }
}

/// Named layout constants, in one place.
enum LayoutConstants {
    static let maxLabelWidth = 16
    static let minimumLogRows = 3
    static let rulerLabelGap = 2
}
