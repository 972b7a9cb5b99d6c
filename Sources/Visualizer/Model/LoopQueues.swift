import Loop
import Trace

/// The loop's own state at one step — its ready queue, its timers, who waits on what, who holds
/// which lock, how full each queue is — rebuilt from the trace alone, so that it can be shown
/// for any step of a live run, after stepping back, or in a replay. Pure.
///
/// Tests hold it against ``EventLoop/debugSnapshot()`` at every step of every scenario.
public struct LoopQueues: Sendable, Equatable {
    /// One entry of the ready queue, with why it is there.
    public struct Entry: Sendable, Equatable {
        public var kind: LoopSnapshot.ReadyEntry.Kind
        /// The task, callback or socket.
        public var subject: EntityID
        /// Why it is ready (a task's ``ReadyCause``; nil for other kinds).
        public var cause: ReadyCause?
        /// Who made it ready (the task that set the event, released the lock, wrote the bytes).
        public var waker: EntityID = .none
        /// What was in between (the event, the lock, the socket).
        public var via: EntityID = .none
        /// A callback whose timer came due (not one queued by `callSoon` or another thread).
        public var fromTimer = false
    }

    /// A pending timer.
    public struct Timer: Sendable, Equatable {
        public var deadline: Int64
        public var subject: EntityID
        public var purpose: TimerPurpose
    }

    public private(set) var ready: [Entry] = []
    /// In firing order: by deadline, then in the order scheduled.
    public private(set) var timers: [Timer] = []
    /// Per primitive, socket or awaited task: who waits on it, in the order they began.
    public private(set) var waiters: [EntityID: [EntityID]] = [:]
    /// What each waiting task waits for (for the panel's words).
    public private(set) var waitKind: [EntityID: TaskState] = [:]
    public private(set) var holders: [EntityID: [EntityID]] = [:]
    public private(set) var queueSizes: [EntityID: Int] = [:]
    /// Records were lost: what is shown may be incomplete.
    public private(set) var incomplete = false

    public init() {}

    // MARK: - Rebuilding

    /// The state after `records` (and before whatever comes next). O(records).
    public init<Records: Sequence>(records: Records) where Records.Element == TraceRecord {
        for record in records { apply(record) }
    }

    /// The state just before step `number` (1-based) of `model` runs, with that step's entry
    /// taken off the queue and returned as `next`; for `number` past the last step, the state
    /// after all records and no `next`. A step that left memory counts as the oldest retained
    /// one. Replays from the model's checkpoint at its oldest record: O(retained records
    /// before the step).
    public static func before(step number: Int, in model: LaneModel) -> (queues: LoopQueues, next: Entry?) {
        var queues = model.queuesAtFirstRecord
        guard number >= 1, number <= model.stepCount, !model.steps.isEmpty else {
            for record in model.records { queues.apply(record) }
            return (queues, nil)
        }
        let step = model.step(max(number, model.stepRange.lowerBound))
        for record in model.records(in: model.firstRecordIndex..<step.recordIndex) { queues.apply(record) }
        let next = queues.take(kind: step.kind.readyKind, subject: step.subject)
        return (queues, next)
    }

    /// Applies one record. Amortized O(1), except removals from a long queue or timer list.
    public mutating func apply(_ record: TraceRecord) {
        let subject = record.subject
        switch record.kind {
        case .taskReady:
            stopWaiting(subject)
            ready.append(Entry(kind: .task, subject: subject, cause: record.detail(as: ReadyCause.self),
                               waker: record.other, via: EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))))
        case .taskSuspended:
            switch record.state {
            case .ready:  // a yield: back of the queue at once
                ready.append(Entry(kind: .task, subject: subject, cause: .yielded, waker: subject))
            case .waiting, .waitingIO, .awaitingChildren:
                guard record.other != .none else { break }
                waiters[record.other, default: []].append(subject)
                waitKind[subject] = record.state
            default:
                break
            }
        case .taskResumed:
            take(kind: .task, subject: subject)
        case .taskDone:
            stopWaiting(subject)
            ready.removeAll { $0.kind != .callback && $0.kind != .io && $0.subject == subject }
        case .timerScheduled:
            let timer = Timer(deadline: record.value, subject: subject, purpose: record.detail(as: TimerPurpose.self) ?? .callback)
            // After every timer with a deadline at or before it: FIFO among equal deadlines.
            let index = timers.lastIndex { $0.deadline <= timer.deadline }.map { $0 + 1 } ?? 0
            timers.insert(timer, at: index)
        case .timerDue:
            let purpose = record.detail(as: TimerPurpose.self) ?? .callback
            removeTimer(subject, purpose)
            ready.append(Entry(kind: purpose == .sleep ? .timer : .callback, subject: subject, fromTimer: true))
        case .timerCancelled:
            let purpose = record.detail(as: TimerPurpose.self) ?? .callback
            if !removeTimer(subject, purpose), purpose == .callback,
               let index = ready.firstIndex(where: { $0.kind == .callback && $0.subject == subject }) {
                ready.remove(at: index)  // queued by callSoon (or due), then cancelled
            }
        case .callbackQueued:
            ready.append(Entry(kind: .callback, subject: subject, cause: record.detail(as: CallbackOrigin.self) == .external ? .external : nil,
                               waker: record.other))
        case .relayQueued:
            ready.append(Entry(kind: .relay, subject: subject, cause: .childDone, waker: record.other))
        case .ioQueued:
            ready.append(Entry(kind: .io, subject: subject))
        case .timerFired:
            take(kind: .timer, subject: subject)
        case .callbackStarted:
            take(kind: .callback, subject: subject)
        case .ioReady:
            take(kind: .io, subject: subject)
        case .primitiveAcquired:
            holders[subject, default: []].append(record.other)
        case .primitiveReleased:
            if let index = holders[subject]?.firstIndex(of: record.other) {
                holders[subject]?.remove(at: index)
            } else if holders[subject]?.isEmpty == false {
                holders[subject]?.removeFirst()
            }
            if holders[subject]?.isEmpty == true { holders[subject] = nil }
        case .queueSize:
            queueSizes[subject] = Int(record.value)
        case .awaitNext:
            stopWaiting(subject)
            waiters[record.other, default: []].append(subject)
            waitKind[subject] = .awaitingChildren
        case .gap:
            incomplete = true
        case .taskSpawned, .callbackFinished, .eventSet, .eventCleared, .output, .loopIdle, .runFinished,
             .ioRead, .ioWritten, .ioAccepted, .ioOpened, .ioClosed, .loopPolled:
            break
        }
    }

    /// The step that begins runs the first queued entry for `subject`; whatever the loop ran
    /// before it without a step of its own (a gather hop, a stale wake-up) is gone too.
    @discardableResult
    public mutating func take(kind: LoopSnapshot.ReadyEntry.Kind, subject: EntityID) -> Entry? {
        guard let index = ready.firstIndex(where: { $0.kind == kind && $0.subject == subject }) else { return nil }
        let entry = ready[index]
        ready.removeSubrange(...index)
        return entry
    }

    @discardableResult
    private mutating func removeTimer(_ subject: EntityID, _ purpose: TimerPurpose) -> Bool {
        guard let index = timers.firstIndex(where: { $0.subject == subject && $0.purpose == purpose }) else { return false }
        timers.remove(at: index)
        return true
    }

    private mutating func stopWaiting(_ task: EntityID) {
        guard waitKind.removeValue(forKey: task) != nil else { return }
        for key in waiters.keys {
            waiters[key]?.removeAll { $0 == task }
            if waiters[key]?.isEmpty == true { waiters[key] = nil }
        }
    }

    /// The same state as the loop's own ``LoopSnapshot``, for comparison.
    public var snapshot: LoopSnapshot {
        var snapshot = LoopSnapshot()
        snapshot.ready = ready.map { LoopSnapshot.ReadyEntry(kind: $0.kind, subject: $0.subject) }
        snapshot.timers = timers.map { LoopSnapshot.Timer(deadline: $0.deadline, subject: $0.subject, purpose: $0.purpose) }
        snapshot.waiters = waiters
        snapshot.holders = holders
        snapshot.queueSizes = queueSizes
        return snapshot
    }
}

extension StepInfo.Kind {
    /// The kind of ready-queue entry a step of this kind runs.
    var readyKind: LoopSnapshot.ReadyEntry.Kind {
        switch self {
        case .slice: .task
        case .timer: .timer
        case .callback: .callback
        case .io: .io
        }
    }
}

extension StepPreview.Kind {
    /// The kind of ready-queue entry a step of this kind runs.
    public var readyKind: LoopSnapshot.ReadyEntry.Kind {
        switch self {
        case .taskSlice: .task
        case .timerFire: .timer
        case .callback: .callback
        case .ioReady: .io
        }
    }
}
