import Trace

/// What a lane shows for a stretch of time.
public enum LaneState: Sendable, Equatable {
    /// The task's slice runs (or the callback runs).
    case running
    /// Ready, waiting for its turn in the ready queue.
    case ready
    /// In `sleep` until the given loop time.
    case sleeping(until: Int64)
    /// Waiting on a primitive (an event, a lock, ...).
    case waiting(on: EntityID)
    /// Awaiting other tasks (gather, await task).
    case awaiting(child: EntityID)
    /// Waiting on a socket (`on`) for `operation`: bytes to read, room to write, a connection.
    case waitingIO(on: EntityID, operation: IOOperation)
    /// A callback's timer is armed and not due yet.
    case timerPending
    /// Records were lost here: the state is not known until the next record about this lane.
    case unknown
}

/// A stretch of one state on a lane, in both time and step order.
public struct LaneSegment: Sendable, Equatable {
    public var state: LaneState
    public var startTime: Int64
    /// `nil` while the segment is still open (the lane's current state).
    public var endTime: Int64?
    /// The step during which the segment began / ended (see ``LaneModel/steps``).
    public var startStep: Int
    public var endStep: Int?
}

/// Something that happened at an instant on a lane.
public struct LaneMarker: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The lane's sleep timer fired.
        case timerFired
        /// The lane was made ready by someone else (`by`) for `cause`.
        case woken(cause: ReadyCause, by: EntityID)
        /// The lane set an event.
        case eventSet(EntityID)
        /// The lane wrote `bytes` to `socket` (`buffered`: not all went out at once).
        case wrote(socket: EntityID, bytes: Int64, buffered: Bool)
        /// The lane printed a line (`text` is the line's id in the name table).
        case output(text: EntityID)
        /// The task ended this way.
        case done(TaskOutcome)
        /// Records were lost here.
        case gap(count: Int64)
        /// This slice held the loop for `duration` nanoseconds (at least the slow-step threshold).
        case slowStep(duration: Int64)
        /// A starved wait or a lost wake-up (see ``RunWarning``).
        case warning(RunWarning.Kind)
    }

    public var kind: Kind
    public var time: Int64
    public var step: Int
}

/// One task or callback, as a row of segments and markers.
///
/// A lane keeps an index into the model's records, not the segments and markers themselves:
/// the record that began each segment, the records each marker was read off. The model derives
/// ``LaneSegment``s and ``LaneMarker``s from them when asked (``LaneModel/segments(of:)``,
/// ``LaneModel/markers(of:)``), so a retained event costs the history about its packed record
/// and a few 4-byte entries, not 100 bytes of structs (issue 13).
public struct Lane: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case task, callback }

    public var id: EntityID
    public var name: String
    public var kind: Kind
    /// Who spawned it (tasks) — `.none` for the root.
    public var parent: EntityID
    public var isDone = false
    /// The figures of segments and wake-ups that left memory (see ``LaneModel/historyLimit``).
    public var trimmed = LaneTotals()
    /// The state the lane is in now (its open segment's), if it has one.
    public var currentState: LaneState? { openStart?.state }
    /// How its open segment began (kept whole: apply asks on every resume, and one lane's
    /// 32 bytes are cheaper than deriving it each time).
    var openStart: SegmentStart?

    /// The record (an index relative to ``LaneModel/indexBase``) that began each segment.
    var segmentStarts: [UInt32] = []
    /// Segments ended by a record of their own (the task's `done`, the callback's end) rather
    /// than by the next segment's start, in order: at most one per run of segments.
    var segmentEnds: [SegmentEnd] = []
    /// The first segment's start when its record left memory (it began before the oldest
    /// retained step and is still shown).
    var carriedStart: SegmentStart?
    /// The record each marker was read off, or (``noteTag`` set) an index into ``notes``.
    var markerEntries: [UInt32] = []
    /// Markers that are not one record's reading: slow steps and warnings.
    var notes: [LaneMarker] = []
    /// Who made it ready, how often, over the whole run (trimmed wake-ups too): kept as they
    /// come, so the `i` panel does not read every retained wake edge at each frame.
    var wokenCounts: [WakerKey: Int] = [:]

    /// A waker as "woken by" counts it: a task or callback, or the loop's own cause (a timer).
    enum WakerKey: Hashable, Sendable {
        case entity(EntityID)
        case cause(ReadyCause)
    }

    static let noteTag: UInt32 = 1 << 31

    /// The record that ended segment `k` by itself, if one did. ``segmentEnds`` is in segment
    /// order (a segment ends once), so a binary search: a callback lane that runs thousands of
    /// times has as many ends. O(log ends).
    func explicitEnd(of k: Int) -> SegmentEnd? {
        let low = Search.partition(segmentEnds.count) { segmentEnds[$0].segment < k }
        return low < segmentEnds.count && segmentEnds[low].segment == k ? segmentEnds[low] : nil
    }

    struct SegmentEnd: Sendable, Equatable {
        var segment: Int
        var record: UInt32
    }

    struct SegmentStart: Sendable, Equatable {
        var state: LaneState
        var time: Int64
        var step: Int
    }
}

/// One scheduling step: a task slice, a timer fire, a callback (a line of the schedule), or a
/// socket that became ready (the schedule leaves those out, as CPython's tracer does).
public struct StepInfo: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case slice, timer, callback, io }
    public var kind: Kind
    public var subject: EntityID
    public var time: Int64
    /// Index of the record that began the step in the history.
    public var recordIndex: Int
}

/// A line the program printed, with when and by whom.
public struct LogLine: Sendable, Equatable {
    public var time: Int64
    public var step: Int
    public var who: EntityID
    public var text: String
    /// A line loopviz adds (a slow step), not one the program printed.
    public var isDiagnostic = false
    /// The program wrote it to its standard error (a traceback), not its standard output.
    public var isError = false
}

/// A step that held the loop for at least the model's ``LaneModel/slowStepThreshold``: while it
/// ran, nothing else could (asyncio debug mode's "Executing ... took 0.5 seconds").
public struct SlowStep: Sendable, Equatable {
    public var who: EntityID
    public var start: Int64
    public var duration: Int64
    public var step: Int
}

/// Who made whom ready, and why (the arrows of a sequence diagram).
public struct WakeEdge: Sendable, Equatable {
    public var time: Int64
    public var step: Int
    public var woken: EntityID
    public var waker: EntityID
    public var cause: ReadyCause
    /// The primitive in between (the event that was set), if any.
    public var via: EntityID
}
