import Trace

/// A lane's figures from segments and wake edges that left memory, so that ``TaskStatistics``
/// still reports the whole run (tokio-console keeps a task's totals after its details expire).
public struct LaneTotals: Sendable, Equatable {
    /// Slices run (or callback runs).
    public var steps = 0
    public var ioWaits = 0
    public var running: Int64 = 0
    public var ready: Int64 = 0
    /// Waits in the ready queue, and the longest of them (their distribution left memory).
    public var waits = 0
    public var longestWait: Int64 = 0
    /// Time suspended, by what it waited on (the words of ``Vocabulary``).
    public var suspended: [String: Int64] = [:]
    /// Who made it ready and how often.
    public var wokenBy: [String: Int] = [:]

    public init() {}

    /// Adds one closed segment.
    mutating func add(_ segment: LaneSegment, names: NameTable) {
        let duration = max(0, (segment.endTime ?? segment.startTime) - segment.startTime)
        switch segment.state {
        case .running:
            steps += 1
            running += duration
        case .ready:
            ready += duration
            waits += 1
            longestWait = max(longestWait, duration)
        case .waitingIO:
            ioWaits += 1
            suspended[Vocabulary.describe(segment.state, names: names), default: 0] += duration
        case .sleeping, .waiting, .awaiting, .timerPending, .unknown:
            suspended[Vocabulary.describe(segment.state, names: names), default: 0] += duration
        }
    }

    /// Adds another lane's totals (a retired lane into the model's summary).
    mutating func add(_ other: LaneTotals) {
        steps += other.steps
        ioWaits += other.ioWaits
        running += other.running
        ready += other.ready
        waits += other.waits
        longestWait = max(longestWait, other.longestWait)
        suspended.merge(other.suspended, uniquingKeysWith: +)
        wokenBy.merge(other.wokenBy, uniquingKeysWith: +)
    }
}

extension Lane {
    /// How a wake edge is counted in "woken by": the waker's name, or the cause for the loop's own.
    static func wakerKey(_ edge: WakeEdge, names: NameTable) -> String {
        edge.waker == .none ? edge.cause.words : names.name(edge.waker)
    }
}

// MARK: - Reading a bounded history

extension LaneModel {
    /// The default ``historyLimit`` for a live run or a replay: about 70 MB at the ~30 bytes a
    /// retained event costs (`loopviz bench`: history bytes/event), chunk included. Not more:
    /// the state panel replays the retained records up to the step shown.
    public static let defaultHistoryLimit = 2_000_000

    /// How many records leave memory at once: 1/8 of the limit, so trimming is amortized.
    public var historyChunk: Int { max(1, retainedLimit / 8) }

    /// The most records kept, whatever ``historyLimit`` says: 2^29 (about 15 GB), so that an
    /// index entry (31 bits from a base that moves every 2^30 records) never reaches the bit that
    /// marks a note.
    public static let maximumRetained = 1 << 29

    /// ``historyLimit``, capped at ``maximumRetained``.
    var retainedLimit: Int { min(historyLimit, Self.maximumRetained) }

    /// The newest step's number: every step of the run so far, trimmed or not.
    public var stepCount: Int { trimmedSteps + steps.count }

    /// Every record of the run so far, trimmed or not.
    public var eventCount: Int { firstRecordIndex + records.count }

    /// The earliest cursor the history can show: 0 (before the first step) while nothing was
    /// trimmed, else the oldest retained step.
    public var firstCursor: Int { trimmedSteps == 0 ? 0 : trimmedSteps + 1 }

    /// The retained steps' numbers.
    public var stepRange: ClosedRange<Int> { (trimmedSteps + 1)...max(trimmedSteps + 1, stepCount) }

    /// Step `number` (1-based), which must be retained. O(1).
    public func step(_ number: Int) -> StepInfo {
        stepInfo(stepStarts[number - 1 - trimmedSteps])
    }

    /// Whether step `number` is still in memory.
    public func hasStep(_ number: Int) -> Bool {
        number > trimmedSteps && number <= stepCount
    }

    /// The record at global index `index`, which must be retained. O(1).
    public func record(at index: Int) -> TraceRecord {
        records[index - firstRecordIndex]
    }

    /// The retained records with global indices in `range` (clamped to what is retained).
    public func records(in range: Range<Int>) -> Slice<RecordStore> {
        let lower = min(max(range.lowerBound, firstRecordIndex), eventCount) - firstRecordIndex
        let upper = min(max(range.upperBound, firstRecordIndex), eventCount) - firstRecordIndex
        return records[lower..<max(lower, upper)]
    }

    /// `cursor` (nil: the newest step) as a step the history can show. O(1).
    public func shownStep(_ cursor: Int?) -> Int {
        min(max(cursor ?? stepCount, firstCursor), stepCount)
    }

    /// The loop time of step `number`, or 0 before the first step (or for a trimmed step).
    public func time(ofStep number: Int) -> Int64 {
        hasStep(number) ? step(number).time : 0
    }

    /// The index of the lane of `id` in ``lanes`` (lanes shift when finished ones retire).
    public func laneIndex(of id: EntityID) -> Int? { laneIndex[id] }

    /// What the status line says when stepping back stops at the oldest retained step.
    public var oldestStepNotice: String {
        "oldest step kept: \(firstRecordIndex) earlier events left memory (--history; a --record file keeps them)"
    }
}

// MARK: - Trimming

extension LaneModel {
    /// Drops the oldest records so that about ``historyLimit`` remain, cut at a step boundary,
    /// with everything that belongs only to the dropped steps: steps, log lines, wake edges, slow
    /// steps, warnings, and lane segments and markers that end before the new oldest step.
    /// Their figures go into each lane's ``Lane/trimmed``; finished lanes left empty retire.
    /// O((dropped + lanes) × log) to find and total what goes, plus the kept notes of lanes
    /// that lost some.
    mutating func trimHistory() {
        let target = firstRecordIndex + records.count - retainedLimit
        // The first step that begins at or after the target: the new oldest step.
        let kept = Search.partition(stepStarts.count) { recordIndex(stepStarts[$0]) < target }
        guard kept < stepStarts.count, kept > 0 else { return }  // one step longer than the limit stays whole
        let newOldestStep = trimmedSteps + kept + 1
        let cutIndex = recordIndex(stepStarts[kept])

        // Lanes first, while every record they point at is still there.
        func droppedPrefix(_ count: Int, _ step: (Int) -> Int) -> Int {
            Search.partition(count) { step($0) < newOldestStep }
        }
        var retiring = false
        for index in lanes.indices {
            let lane = lanes[index]
            let segments = segments(of: lane)
            let dropped = droppedPrefix(segments.count) { segments[$0].endStep ?? .max }
            for segment in segments[..<dropped] { lanes[index].trimmed.add(segment, names: names) }
            // The first kept segment may have begun before the cut: it keeps its start whole.
            let carried: Lane.SegmentStart? = dropped < segments.count && (dropped == 0 && lane.carriedStart != nil
                || recordIndex(lane.segmentStarts[dropped]) < cutIndex) ? start(ofSegment: dropped, in: lane) : nil
            let markers = markers(of: lane)
            let droppedMarkers = droppedPrefix(markers.count) { markers[$0].step }
            let droppedNotes = lane.markerEntries[..<droppedMarkers].filter { $0 & Lane.noteTag != 0 }.count

            lanes[index].carriedStart = carried
            lanes[index].segmentStarts.removeFirst(dropped)
            lanes[index].segmentEnds = lane.segmentEnds.compactMap { end in
                end.segment < dropped ? nil : Lane.SegmentEnd(segment: end.segment - dropped, record: end.record)
            }
            lanes[index].markerEntries.removeFirst(droppedMarkers)
            if droppedNotes > 0 {
                lanes[index].notes.removeFirst(droppedNotes)
                for k in lanes[index].markerEntries.indices where lanes[index].markerEntries[k] & Lane.noteTag != 0 {
                    lanes[index].markerEntries[k] -= UInt32(droppedNotes)
                }
            }
            let trimmedLane = lanes[index]
            if trimmedLane.segmentStarts.isEmpty && trimmedLane.markerEntries.isEmpty && (trimmedLane.isDone || trimmedLane.kind == .callback)
                && runningSince?.who != trimmedLane.id {
                retiring = true
            }
        }
        let droppedWakes = droppedPrefix(wakeRecords.count) { wakeEdge(wakeRecords[$0]).step }
        for edge in wakes[..<droppedWakes] {
            if let lane = laneIndex[edge.woken] { lanes[lane].trimmed.wokenBy[Lane.wakerKey(edge, names: names), default: 0] += 1 }
        }
        wakeRecords.removeFirst(droppedWakes)
        log.removeFirst(droppedPrefix(log.count) { log[$0].step })
        slowSteps.removeFirst(droppedPrefix(slowSteps.count) { slowSteps[$0].step })
        warnings.removeFirst(droppedPrefix(warnings.count) { warnings[$0].step })

        let cut = cutIndex - firstRecordIndex
        var forgotten: [EntityID] = []
        for record in records[..<cut] {
            queuesAtFirstRecord.apply(record)
            if record.kind == .output { forgotten.append(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))) }
        }
        records.removeFirst(cut)
        firstRecordIndex += cut
        stepStarts.removeFirst(kept)
        trimmedSteps += kept
        let goneBlocks = min(stepsBeforeBlock.count, (firstRecordIndex - indexBase) >> 8 - droppedBlocks)
        stepsBeforeBlock.removeFirst(goneBlocks)
        droppedBlocks += goneBlocks
        if releasesTrimmedText { names.forget(forgotten) }
        rebaseIndicesIfFar()
        if retiring { retireFinishedLanes() }
    }

    /// Index entries are 31-bit offsets from ``indexBase``: once the oldest retained record is
    /// a billion past it, every entry moves down (O(retained entries), once per billion records).
    private mutating func rebaseIndicesIfFar() {
        // A whole number of step blocks, so that the blocks keep their records.
        let shift = (firstRecordIndex - indexBase) & ~255
        guard shift >= indexRebaseDistance else { return }
        droppedBlocks -= shift >> 8
        // Every entry read after this points at or after the oldest retained record, so it stays
        // non-negative. The one exception is the start entry of a lane's carried first segment
        // (its record left memory): it wraps (`&-=`), and it is never read while
        // `carriedStart` stands for it.
        let delta = UInt32(shift)
        indexBase += shift
        for k in stepStarts.indices { stepStarts[k] -= delta }
        for k in wakeRecords.indices { wakeRecords[k] -= delta }
        for index in lanes.indices {
            for k in lanes[index].segmentStarts.indices { lanes[index].segmentStarts[k] &-= delta }
            for k in lanes[index].segmentEnds.indices { lanes[index].segmentEnds[k].record -= delta }
            for k in lanes[index].markerEntries.indices where lanes[index].markerEntries[k] & Lane.noteTag == 0 {
                lanes[index].markerEntries[k] -= delta
            }
        }
    }

    /// Finished lanes with nothing left to draw leave ``lanes``; their figures join ``retiredTotals``.
    private mutating func retireFinishedLanes() {
        var kept: [Lane] = []
        kept.reserveCapacity(lanes.count)
        for lane in lanes {
            if lane.segmentStarts.isEmpty && lane.markerEntries.isEmpty && (lane.isDone || lane.kind == .callback) && runningSince?.who != lane.id {
                retiredLanes += 1
                retiredTotals.add(lane.trimmed)
            } else {
                kept.append(lane)
            }
        }
        lanes = kept
        laneIndex = Dictionary(uniqueKeysWithValues: lanes.enumerated().map { ($0.element.id, $0.offset) })
    }
}
