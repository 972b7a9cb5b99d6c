import Trace

/// The history store and the lanes derived from it: the newest records (packed, 20 bytes each;
/// see ``RecordStore``) plus small indices into them — per lane, the records that began its
/// segments and carry its markers; the records that began steps and that woke tasks — and the
/// log. Segments, markers, steps and wake edges are read off the records when asked
/// (`LaneModel+Index.swift`).
///
/// It changes only through ``apply(_:)``, one record at a time, so the live UI updates it as
/// records arrive and a replay rebuilds it the same way. Pure: no terminal, no threads.
///
/// The history is bounded (``historyLimit``, see `LaneModel+History.swift`): the oldest steps
/// leave memory in chunks, as Go's flight recorder and Perfetto's ring buffer drop theirs. Step
/// numbers and record indices never change: ``records`` and ``steps`` hold the retained ones,
/// from ``firstRecordIndex`` and step ``trimmedSteps`` + 1 on; read them through ``step(_:)``,
/// ``record(at:)`` and ``stepCount``.
public struct LaneModel: Sendable {
    public let names: NameTable
    /// The retained records, packed; the one at global index `i` is `records[i - firstRecordIndex]`.
    public internal(set) var records = RecordStore()
    public internal(set) var lanes: [Lane] = []
    /// The record that began each retained step, as an index entry (see ``indexBase``); read
    /// them as ``steps``.
    var stepStarts: [UInt32] = []
    /// The retained log lines, in step order.
    public internal(set) var log: [LogLine] = []
    /// The `taskReady` records that are wake edges, as index entries; read them as ``wakes``.
    var wakeRecords: [UInt32] = []
    /// The global record index that index entry 0 stands for: the indices hold 31-bit offsets
    /// from it, moved up as the oldest records leave memory.
    public internal(set) var indexBase = 0
    /// How far the oldest retained record may get from ``indexBase`` before the indices move
    /// (2^30: entries are 31 bits; tests lower it to see a move).
    var indexRebaseDistance = 1 << 30
    /// For every 256 records from ``indexBase`` on (less ``droppedBlocks``): how many steps began
    /// before the block's first record. It narrows ``stepNumber(atRecord:)``'s search to the
    /// few steps within one block (a frame asks for thousands of step numbers): 1/32 byte a record.
    var stepsBeforeBlock: [Int] = []
    /// Blocks of ``stepsBeforeBlock`` that left memory with their records.
    var droppedBlocks = 0
    /// A socket became ready at least once (the legend names the I/O glyphs only then).
    public private(set) var sawIO = false
    /// Most records kept in memory (trimming starts once it is exceeded by a chunk of
    /// ``historyChunk``); `Int.max`: keep everything.
    public var historyLimit = Int.max
    /// Records that left memory, and so the global index of ``records``' first.
    public internal(set) var firstRecordIndex = 0
    /// Steps that left memory: the oldest retained step is number `trimmedSteps + 1`.
    public internal(set) var trimmedSteps = 0
    /// The loop's queues as they were just before the first retained record: where
    /// ``LoopQueues/before(step:in:)`` starts replaying from.
    public internal(set) var queuesAtFirstRecord = LoopQueues()
    /// Finished lanes that left memory with their last segment (their figures are in
    /// ``retiredTotals``).
    public internal(set) var retiredLanes = 0
    /// The summed figures of the retired lanes.
    public internal(set) var retiredTotals = LaneTotals()
    /// Release the text of printed lines that left memory from the name table (the log keeps
    /// its own copy of what it still shows). Off for a model that shares its table with another.
    public var releasesTrimmedText = true
    /// Records the ring lost (the sum of `gap` records).
    public private(set) var dropped: Int64 = 0
    /// Loop time of the newest record.
    public private(set) var lastTime: Int64 = 0
    /// The deadline the loop last went idle for (its next timer), if it had one.
    public private(set) var idleDeadline: Int64?
    /// Steps that held the loop at least ``slowStepThreshold``.
    public internal(set) var slowSteps: [SlowStep] = []
    /// Starved tasks and lost wake-ups, in the order found (see ``RunWarning``).
    public internal(set) var warnings: [RunWarning] = []
    private var warningDetector = WarningDetector()
    /// How long a step may hold the loop before it is flagged (asyncio debug mode: 100 ms).
    public var slowStepThreshold: Int64 = 100_000_000
    /// The slice or callback running now and when it began.
    var runningSince: (who: EntityID, time: Int64)?
    /// The slice or callback running now (its start record came, its end has not): who and
    /// since when. Live, a long one is a stall in progress.
    public var runningStep: (who: EntityID, since: Int64)? { runningSince.map { ($0.who, $0.time) } }
    /// Set by the `runFinished` record.
    public private(set) var outcome: RunOutcome?
    var laneIndex: [EntityID: Int] = [:]

    public init(names: NameTable) {
        self.names = names
    }

    /// Builds a model from a whole trace.
    public init(records: [TraceRecord], names: NameTable) {
        self.init(names: names)
        for record in records { apply(record) }
    }

    /// The lane of `id`, if there is one.
    public func lane(_ id: EntityID) -> Lane? {
        laneIndex[id].map { lanes[$0] }
    }

    public var isFinished: Bool { outcome != nil }

    // MARK: - The one update entry point

    /// Adds one record to the history and updates the lanes; once the history exceeds its
    /// limit by a chunk, drops the oldest chunk first. Amortized O(1) per record (a gap record:
    /// O(open lanes)), plus a trim per chunk.
    public mutating func apply(_ record: TraceRecord) {
        if records.count >= retainedLimit &+ historyChunk { trimHistory() }
        records.append(record)
        if (currentRecord - indexBase) & 255 == 0 { stepsBeforeBlock.append(stepCount) }
        lastTime = max(lastTime, record.time)
        defer {
            for found in warningDetector.observe(record, names: names) {
                warn(.lostWakeup(primitive: found.primitive), who: found.task, time: record.time, text: found.text)
            }
        }
        let time = record.time
        switch record.kind {
        case .taskSpawned:
            let lane = laneFor(record.subject, kind: .task, parent: record.other)
            transition(lane, to: .ready, time: time)
        case .taskReady:
            let lane = laneFor(record.subject, kind: .task)
            transition(lane, to: .ready, time: time)
            let cause = record.detail(as: ReadyCause.self) ?? .runtime
            if cause != .spawned && cause != .yielded {
                wakeRecords.append(entry(currentRecord))
                lanes[lane].wokenCounts[record.other == .none ? .cause(cause) : .entity(record.other), default: 0] += 1
                if cause != .timer {
                    mark(lane, .woken(cause: cause, by: record.other), time: time)
                }
            }
        case .taskResumed:
            beginStep(.slice, record)
            runningSince = (record.subject, time)
            let lane = laneFor(record.subject, kind: .task)
            noteStarvation(lane, resumedAt: time)
            transition(lane, to: .running, time: time)
        case .taskSuspended:
            endOfStep(record.subject, time: time)
            transition(laneFor(record.subject, kind: .task), to: Self.suspendedState(record), time: time)
        case .taskDone:
            endOfStep(record.subject, time: time)
            let lane = laneFor(record.subject, kind: .task)
            close(lane, time: time)
            lanes[lane].isDone = true
            mark(lane, .done(record.detail(as: TaskOutcome.self) ?? .ok), time: time)
        case .timerScheduled:
            if record.detail(as: TimerPurpose.self) == .callback {
                transition(laneFor(record.subject, kind: .callback), to: .timerPending, time: time)
            }
        case .timerFired:
            beginStep(.timer, record)
            let lane = laneFor(record.subject, kind: .task)
            if case .sleeping(let deadline)? = lanes[lane].currentState, deadline < time {
                // Fired late (the loop was busy): from its deadline on the task was due, that
                // is, ready and waiting for the loop, and the lane says so.
                // Never before the sleep began (a damaged stream's deadline may be anything);
                // derived again from the record the same way: see start(ofSegment:in:).
                transition(lane, to: .ready, time: max(deadline, lanes[lane].openStart?.time ?? deadline))
            }
            mark(lane, .timerFired, time: time)
        case .callbackStarted:
            beginStep(.callback, record)
            runningSince = (record.subject, time)
            transition(laneFor(record.subject, kind: .callback), to: .running, time: time)
        case .callbackFinished:
            endOfStep(record.subject, time: time)
            close(laneFor(record.subject, kind: .callback), time: time)
        case .eventSet:
            if record.other != .none, let lane = existingLane(record.other) {
                mark(lane, .eventSet(record.subject), time: time)
            }
        case .loopIdle:
            idleDeadline = record.value >= 0 ? record.value : nil
        case .eventCleared:
            break
        case .output:
            let text = EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))
            log.append(LogLine(time: time, step: stepCount, who: record.subject, text: names.name(text),
                               isError: record.detail == OutputStream.standardError.rawValue))
            if let lane = existingLane(record.subject) { mark(lane, .output(text: text), time: time) }
        case .gap:
            // Saturating: a damaged or hostile stream's absurd counts must not trap.
            let (sum, overflow) = dropped.addingReportingOverflow(max(0, record.value))
            dropped = overflow ? .max : sum
            // Every open lane's state is unknown until its next record says otherwise.
            for lane in lanes.indices where lanes[lane].currentState != nil {
                transition(lane, to: .unknown, time: time)
                mark(lane, .gap(count: record.value), time: time)
            }
        case .runFinished:
            outcome = record.detail(as: RunOutcome.self) ?? .error
        case .ioReady:
            beginStep(.io, record)
            sawIO = true
        case .ioWritten:
            if let lane = existingLane(record.other) {
                let buffered = record.detail(as: IOWriteOutcome.self).map { $0 != .sent } ?? false
                mark(lane, .wrote(socket: record.subject, bytes: record.value, buffered: buffered), time: time)
            }
        case .ioRead, .ioAccepted, .ioOpened, .ioClosed, .loopPolled:
            break  // in the history (step descriptions, export); no lane changes
        case .awaitNext:
            transition(laneFor(record.subject, kind: .task), to: .awaiting(child: record.other), time: time)
        case .callbackQueued, .timerDue, .timerCancelled, .relayQueued, .ioQueued, .primitiveAcquired, .primitiveReleased, .queueSize:
            break  // the loop's own queues: LoopQueues rebuilds them from the history
        }
    }

    // MARK: - Helpers

    /// The lane state a `taskSuspended` record leaves its task in.
    static func suspendedState(_ record: TraceRecord) -> LaneState {
        switch record.state {
        case .sleeping: .sleeping(until: record.value)
        case .awaitingChildren: .awaiting(child: record.other)
        case .yielded, .ready: .ready
        case .waiting: .waiting(on: record.other)
        case .waitingIO: .waitingIO(on: record.other, operation: IOOperation(rawValue: UInt8(truncatingIfNeeded: record.value)) ?? .read)
        case .running, .done, .unknown: .unknown
        }
    }

    /// A task resumes after waiting in the ready queue: flag the wait when it lasted at least
    /// the slow-step threshold while other steps ran (it was starved, not idle).
    private mutating func noteStarvation(_ lane: Int, resumedAt time: Int64) {
        guard let last = lanes[lane].openStart, last.state == .ready else { return }
        let waited = time - last.time
        guard waited >= slowStepThreshold, stepCount - 1 > last.step else { return }
        let millis = Int((Double(waited) / 1e6).rounded())
        warn(.starved(duration: waited), who: lanes[lane].id, time: last.time, loggedAt: time,
             text: "was ready \(millis) ms before it could run: the loop was busy with others (starved)")
    }

    /// `loggedAt`: when the log says it (it is found then), keeping the log in time order.
    private mutating func warn(_ kind: RunWarning.Kind, who: EntityID, time: Int64, loggedAt: Int64? = nil, text: String) {
        warnings.append(RunWarning(kind: kind, who: who, time: time, step: stepCount, text: text))
        log.append(LogLine(time: loggedAt ?? time, step: stepCount, who: who, text: text, isDiagnostic: true))
        if let lane = existingLane(who) { note(lane, .warning(kind), time: time) }
    }

    /// A slice or callback ended: flag it when it held the loop too long.
    private mutating func endOfStep(_ who: EntityID, time: Int64) {
        guard let running = runningSince, running.who == who else { return }
        runningSince = nil
        let duration = time - running.time
        guard duration >= slowStepThreshold, let lane = existingLane(who) else { return }
        slowSteps.append(SlowStep(who: who, start: running.time, duration: duration, step: stepCount))
        note(lane, .slowStep(duration: duration), time: running.time)
        let millis = Int((Double(duration) / 1e6).rounded())
        log.append(LogLine(time: running.time, step: stepCount, who: who,
                           text: "held the loop \(millis) ms — every other task waited", isDiagnostic: true))
    }

    /// The global index of the record being applied.
    private var currentRecord: Int { firstRecordIndex + records.count - 1 }

    private mutating func beginStep(_ kind: StepInfo.Kind, _ record: TraceRecord) {
        stepStarts.append(entry(currentRecord))
    }

    private func existingLane(_ id: EntityID) -> Int? { laneIndex[id] }

    /// The lane for `id`, created on first sight (also when its spawn record was lost).
    private mutating func laneFor(_ id: EntityID, kind: Lane.Kind, parent: EntityID = .none) -> Int {
        if let index = laneIndex[id] { return index }
        let entry = names.entry(id)
        let laneKind: Lane.Kind = entry.map { $0.kind == .callback ? .callback : .task } ?? kind
        lanes.append(Lane(id: id, name: entry?.name ?? "?\(id.rawValue)", kind: laneKind, parent: parent))
        laneIndex[id] = lanes.count - 1
        return lanes.count - 1
    }

    /// The lane enters `state`, which the record being applied begins (``segmentState(_:)``
    /// reads it back from that record; `time` is its time, or a late timer's deadline).
    private mutating func transition(_ lane: Int, to state: LaneState, time: Int64) {
        if lanes[lane].currentState == state { return }
        lanes[lane].segmentStarts.append(entry(currentRecord))
        lanes[lane].openStart = Lane.SegmentStart(state: state, time: time, step: stepCount)
    }

    /// The lane's open segment ends with the record being applied.
    private mutating func close(_ lane: Int, time: Int64) {
        guard lanes[lane].currentState != nil else { return }
        lanes[lane].segmentEnds.append(Lane.SegmentEnd(segment: lanes[lane].segmentStarts.count - 1, record: entry(currentRecord)))
        lanes[lane].openStart = nil
    }

    /// A marker read off the record being applied (``markerKind(_:)`` reads `kind` back from it).
    private mutating func mark(_ lane: Int, _ kind: LaneMarker.Kind, time: Int64) {
        lanes[lane].markerEntries.append(entry(currentRecord))
    }

    /// A marker that no one record says: kept whole.
    private mutating func note(_ lane: Int, _ kind: LaneMarker.Kind, time: Int64) {
        lanes[lane].markerEntries.append(Lane.noteTag | UInt32(lanes[lane].notes.count))
        lanes[lane].notes.append(LaneMarker(kind: kind, time: time, step: stepCount))
    }
}

extension LaneModel {
    /// Memory the history holds, from its arrays' capacities (strings not counted): what
    /// `history_bytes_per_event` reports. O(lanes).
    public var approximateBytes: Int {
        var bytes = records.approximateBytes
            + stepStarts.capacity * 4 + stepsBeforeBlock.capacity * 8
            + log.capacity * MemoryLayout<LogLine>.stride
            + wakeRecords.capacity * 4
            + lanes.capacity * MemoryLayout<Lane>.stride
        for lane in lanes {
            bytes += lane.segmentStarts.capacity * 4 + lane.markerEntries.capacity * 4
                + lane.segmentEnds.capacity * MemoryLayout<Lane.SegmentEnd>.stride
                + lane.notes.capacity * MemoryLayout<LaneMarker>.stride
        }
        return bytes
    }
}
