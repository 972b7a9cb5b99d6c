import Trace

/// Where a jump key takes the cursor: `.` / `,` to the selected lane's next / previous event
/// (Perfetto's keys), `]` / `[` to the next / previous slow step or warning.
public enum StepJump: Sendable, Equatable {
    case nextLaneEvent, previousLaneEvent, nextWarning, previousWarning

    var isForward: Bool { self == .nextLaneEvent || self == .nextWarning }

    /// What the status line says when there is no such step: a key that seems to do nothing
    /// would leave the user wondering whether it was read.
    public func nothingThere(lane: String) -> String {
        switch self {
        case .nextLaneEvent: "no later event of \(lane)"
        case .previousLaneEvent: "no earlier event of \(lane)"
        case .nextWarning: "no later slow step or warning"
        case .previousWarning: "no earlier slow step or warning"
        }
    }
}

extension LaneModel {
    /// The steps (numbered as the cursor counts them, 1 for the first) in which `lane` did
    /// something worth stopping at: it ran, someone made it ready, or it has a marker (timer
    /// fired, printed, set an event, wrote, done...). Sorted, without repeats. O(segments +
    /// markers + wakes).
    public func eventSteps(of lane: Lane) -> [Int] {
        var steps = Set<Int>()
        for segment in segments(of: lane) where segment.state == .running { steps.insert(segment.startStep) }
        for marker in markers(of: lane) { steps.insert(marker.step) }
        // A wake by a timer has no marker of its own on the woken lane (its `timerFired` is), the
        // others do; the edges catch every cause alike.
        for edge in wakes where edge.woken == lane.id { steps.insert(edge.step) }
        return steps.filter { $0 > 0 && $0 >= firstCursor && $0 <= stepCount }.sorted()
    }

    /// The steps with something wrong to look at: a step that held the loop too long, a
    /// starved task or a lost wake-up, records lost, a task that failed or was cancelled.
    /// Sorted, without repeats. O(slow steps + warnings + all markers).
    public var warningSteps: [Int] {
        var steps = Set(slowSteps.map(\.step)).union(warnings.map { max(1, $0.step) })
        for lane in lanes {
            for marker in markers(of: lane) {
                switch marker.kind {
                case .gap, .done(.error), .done(.cancelled): steps.insert(marker.step)
                default: break
                }
            }
        }
        return steps.filter { $0 > 0 && $0 >= firstCursor && $0 <= stepCount }.sorted()
    }

    /// The step `jump` moves the cursor to from `cursor` (the step shown; the newest step at the
    /// live edge), with `lane` (an index into ``lanes``) selected; nil when there is none that
    /// way. Both sessions call this and only decide what moving the cursor means for them.
    public func jumpTarget(_ jump: StepJump, from cursor: Int, lane: Int) -> Int? {
        let candidates: [Int]
        switch jump {
        case .nextLaneEvent, .previousLaneEvent:
            guard lanes.indices.contains(lane) else { return nil }
            candidates = eventSteps(of: lanes[lane])
        case .nextWarning, .previousWarning:
            candidates = warningSteps
        }
        return Self.nearest(candidates, from: cursor, forward: jump.isForward)
    }

    /// What the status line says when `jump` finds no step, with `lane` selected.
    public func noJumpNotice(_ jump: StepJump, lane: Int) -> String {
        jump.nothingThere(lane: lanes.indices.contains(lane) ? lanes[lane].name : "the lane")
    }

    /// The first of the sorted `candidates` after `cursor`, or the last before it. O(n), as
    /// building the candidates is.
    static func nearest(_ candidates: [Int], from cursor: Int, forward: Bool) -> Int? {
        forward ? candidates.first { $0 > cursor } : candidates.last { $0 < cursor }
    }
}
