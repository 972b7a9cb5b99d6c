import Trace

// The history keeps records and small indices into them; segments, markers, steps and wake
// edges are read off the records when asked. Each view below is a random-access collection,
// so the layout's binary searches stay O(log n): a segment probe decodes two or three records
// (its start, the next start or its own end, a late timer's sleep) and finds step numbers
// within a block of 256 records.

extension LaneModel {
    /// The entry that stands for global record `index` in the indices (see ``indexBase``).
    func entry(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: index - indexBase) }

    /// The global record index an entry stands for.
    func recordIndex(_ entry: UInt32) -> Int { indexBase + Int(entry) }

    /// The number of the step that record `index` belongs to (0 before the first step): the
    /// steps that began at or before it. O(log steps).
    func stepNumber(atRecord index: Int) -> Int {
        let relative = entry(index)
        let block = (index - indexBase) >> 8 - droppedBlocks
        // The steps that began within the record's block of 256 (a few): search only those.
        let low = block >= 0 && block < stepsBeforeBlock.count ? max(0, stepsBeforeBlock[block] - trimmedSteps) : 0
        let high = block + 1 >= 0 && block + 1 < stepsBeforeBlock.count
            ? min(stepStarts.count, max(low, stepsBeforeBlock[block + 1] - trimmedSteps)) : stepStarts.count
        return trimmedSteps + low + Search.partition(high - low) { stepStarts[low + $0] <= relative }
    }

    /// The state a segment begun by `record` has.
    static func segmentState(_ record: TraceRecord) -> LaneState {
        switch record.kind {
        case .taskSpawned, .taskReady, .timerFired: .ready
        case .taskResumed, .callbackStarted: .running
        case .taskSuspended: suspendedState(record)
        case .timerScheduled: .timerPending
        case .awaitNext: .awaiting(child: record.other)
        default: .unknown  // a gap, or a damaged stream's surprise
        }
    }

    /// How segment `k` of `lane` began: its state, time and step.
    func start(ofSegment k: Int, in lane: Lane) -> Lane.SegmentStart {
        if k == 0, let carried = lane.carriedStart { return carried }
        let index = recordIndex(lane.segmentStarts[k])
        let record = self.record(at: index)
        var time = record.time
        if record.kind == .timerFired, k > 0 {
            let sleep = start(ofSegment: k - 1, in: lane)
            if case .sleeping(let deadline) = sleep.state {
                // A late timer: the task was due, that is ready, from its deadline on (never
                // before the sleep began, as apply clamps it).
                time = max(deadline, sleep.time)
            }
        }
        return Lane.SegmentStart(state: Self.segmentState(record), time: time, step: stepNumber(atRecord: index))
    }

    /// Segment `k` of `lane`, with its end: its own ending record, or the next segment's start.
    func segment(_ k: Int, in lane: Lane) -> LaneSegment {
        let begin = start(ofSegment: k, in: lane)
        var segment = LaneSegment(state: begin.state, startTime: begin.time, endTime: nil, startStep: begin.step, endStep: nil)
        if let end = lane.explicitEnd(of: k) {
            let index = recordIndex(end.record)
            segment.endTime = record(at: index).time
            segment.endStep = stepNumber(atRecord: index)
        } else if k + 1 < lane.segmentStarts.count {
            let next = start(ofSegment: k + 1, in: lane)
            segment.endTime = next.time
            segment.endStep = next.step
        }
        return segment
    }

    /// Marker `k` of `lane`.
    func marker(_ k: Int, in lane: Lane) -> LaneMarker {
        let entry = lane.markerEntries[k]
        if entry & Lane.noteTag != 0 { return lane.notes[Int(entry & ~Lane.noteTag)] }
        let index = recordIndex(entry)
        let record = self.record(at: index)
        return LaneMarker(kind: Self.markerKind(record), time: record.time, step: stepNumber(atRecord: index))
    }

    /// What a marker read off `record` says.
    static func markerKind(_ record: TraceRecord) -> LaneMarker.Kind {
        switch record.kind {
        case .timerFired: .timerFired
        case .taskReady: .woken(cause: record.detail(as: ReadyCause.self) ?? .runtime, by: record.other)
        case .eventSet: .eventSet(record.subject)
        case .ioWritten: .wrote(socket: record.subject, bytes: record.value,
                                buffered: record.detail(as: IOWriteOutcome.self).map { $0 != .sent } ?? false)
        case .output: .output(text: EntityID(rawValue: UInt32(truncatingIfNeeded: record.value)))
        case .taskDone: .done(record.detail(as: TaskOutcome.self) ?? .ok)
        default: .gap(count: record.value)
        }
    }

    /// The step that `entry` began.
    func stepInfo(_ entry: UInt32) -> StepInfo {
        let index = recordIndex(entry)
        let record = self.record(at: index)
        let kind: StepInfo.Kind = switch record.kind {
        case .taskResumed: .slice
        case .timerFired: .timer
        case .ioReady: .io
        default: .callback
        }
        return StepInfo(kind: kind, subject: record.subject, time: record.time, recordIndex: index)
    }

    /// The wake edge read off the `taskReady` record `entry`.
    func wakeEdge(_ entry: UInt32) -> WakeEdge {
        let index = recordIndex(entry)
        let record = self.record(at: index)
        return WakeEdge(time: record.time, step: stepNumber(atRecord: index), woken: record.subject, waker: record.other,
                        cause: record.detail(as: ReadyCause.self) ?? .runtime,
                        via: EntityID(rawValue: UInt32(truncatingIfNeeded: record.value)))
    }

    // MARK: - The views

    /// `lane`'s segments, in time and step order (they do not overlap).
    public func segments(of lane: Lane) -> LaneSegments { LaneSegments(model: self, lane: lane) }

    /// `lane`'s markers, in the order they happened.
    public func markers(of lane: Lane) -> LaneMarkers { LaneMarkers(model: self, lane: lane) }

    /// The retained steps; step number `n` (1-based) is `steps[n - 1 - trimmedSteps]`.
    public var steps: StepList { StepList(model: self) }

    /// The retained wake edges, in step order.
    public var wakes: WakeList { WakeList(model: self) }

    /// The step in which `lane` ended for good (a task done, a callback that ran); nil while it
    /// still has a state.
    public func finishedStep(of lane: Lane) -> Int? {
        guard lane.currentState == nil, !lane.segmentStarts.isEmpty else { return nil }
        return segment(lane.segmentStarts.count - 1, in: lane).endStep
    }
}

public struct LaneSegments: RandomAccessCollection, Sendable {
    let model: LaneModel
    let lane: Lane
    public var startIndex: Int { 0 }
    public var endIndex: Int { lane.segmentStarts.count }
    public subscript(position: Int) -> LaneSegment { model.segment(position, in: lane) }
}

public struct LaneMarkers: RandomAccessCollection, Sendable {
    let model: LaneModel
    let lane: Lane
    public var startIndex: Int { 0 }
    public var endIndex: Int { lane.markerEntries.count }
    public subscript(position: Int) -> LaneMarker { model.marker(position, in: lane) }
}

public struct StepList: RandomAccessCollection, Sendable, Equatable {
    let model: LaneModel
    public var startIndex: Int { 0 }
    public var endIndex: Int { model.stepStarts.count }
    public subscript(position: Int) -> StepInfo { model.stepInfo(model.stepStarts[position]) }
    public static func == (a: StepList, b: StepList) -> Bool { a.elementsEqual(b) }
}

public struct WakeList: RandomAccessCollection, Sendable, Equatable {
    let model: LaneModel
    public var startIndex: Int { 0 }
    public var endIndex: Int { model.wakeRecords.count }
    public subscript(position: Int) -> WakeEdge { model.wakeEdge(model.wakeRecords[position]) }
    public static func == (a: WakeList, b: WakeList) -> Bool { a.elementsEqual(b) }
}
