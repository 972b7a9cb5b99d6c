import Trace

/// The loop's scheduling state at one moment, as plain values: what the state panel shows,
/// rebuilt there from the trace. Tests compare the two at every step (``EventLoop/debugSnapshot()``
/// from inside a ``StepGate``).
public struct LoopSnapshot: Sendable, Equatable, CustomStringConvertible {
    /// One entry of the ready queue.
    public struct ReadyEntry: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable, Equatable { case task, callback, timer, relay, io }
        public var kind: Kind
        /// The task, callback or socket.
        public var subject: EntityID
        public init(kind: Kind, subject: EntityID) {
            self.kind = kind
            self.subject = subject
        }
        public var description: String { "\(kind.rawValue) \(subject)" }
    }

    /// A pending timer, in firing order.
    public struct Timer: Sendable, Equatable, CustomStringConvertible {
        public var deadline: Int64
        /// The sleeping task or the callback.
        public var subject: EntityID
        public var purpose: TimerPurpose
        public init(deadline: Int64, subject: EntityID, purpose: TimerPurpose) {
            self.deadline = deadline
            self.subject = subject
            self.purpose = purpose
        }
        public var description: String { "\(deadline) \(purpose) \(subject)" }
    }

    /// The ready queue in the order the loop will run it (loop plumbing left out).
    public var ready: [ReadyEntry] = []
    /// Live timers by (deadline, order scheduled).
    public var timers: [Timer] = []
    /// Per primitive, socket or awaited task: the tasks suspended on it, in the order they began.
    public var waiters: [EntityID: [EntityID]] = [:]
    /// Per lock or semaphore: who holds it.
    public var holders: [EntityID: [EntityID]] = [:]
    /// Per queue: how many items it holds.
    public var queueSizes: [EntityID: Int] = [:]

    public init() {}

    public var description: String {
        "ready \(ready) timers \(timers) waiters \(waiters.sorted { $0.key < $1.key }) holders \(holders.sorted { $0.key < $1.key }) queues \(queueSizes.sorted { $0.key < $1.key })"
    }
}

extension EventLoop {
    /// The loop's real scheduling state now. For tests (from a ``StepGate``, on the loop thread):
    /// it reads the loop's own queues, not the trace. O(ready + timers + tasks). A primitive's
    /// waiters are in the order they began to wait in debug builds, by id in release builds.
    public func debugSnapshot() -> LoopSnapshot {
        assertInLoop()
        var snapshot = LoopSnapshot()
        ready.forEach { item in
            switch item {
            case .job(let job):
                if let box = liveTasks.box(for: Self.taskIdentity(of: job)) { snapshot.ready.append(.init(kind: .task, subject: box.id)) }
            case .resume(let task, let generation):
                let box = task.takeUnretainedValue()
                if box.isWaiting(generation: generation) { snapshot.ready.append(.init(kind: .task, subject: box.id)) }
            case .relay(let box, let generation, _):
                if box.isWaiting(generation: generation) { snapshot.ready.append(.init(kind: .relay, subject: box.id)) }
            case .sleepTimer(let box, let generation):
                if box.isWaiting(generation: generation) { snapshot.ready.append(.init(kind: .timer, subject: box.id)) }
            case .callback(let callback):
                if !callback.cancelled { snapshot.ready.append(.init(kind: .callback, subject: callback.id)) }
            case .io(let handler, _):
                if !handler.cancelled { snapshot.ready.append(.init(kind: .io, subject: handler.socket)) }
            case .plumbing:
                break
            }
        }
        // A sleep whose task was woken otherwise (cancelled) will never fire: not pending.
        let pending = timers.unordered.filter { entry in
            if case .wake(let box, _) = entry.action, box.resumeQueued { return false }
            return entry.isLive
        }
        snapshot.timers = pending.sorted().map { entry in
            switch entry.action {
            case .wake(let box, _): .init(deadline: entry.deadline, subject: box.id, purpose: .sleep)
            case .callback(let callback): .init(deadline: entry.deadline, subject: callback.id, purpose: .callback)
            }
        }
        let waiting = liveTasks.boxes.filter { box in
            box.continuation != nil && box.waitingOn != .none
                && (box.state == .waiting || box.state == .waitingIO || box.state == .awaitingChildren)
        }
        #if DEBUG
        // Oldest suspension first; ages, as the counter wraps.
        let inOrder = waiting.sorted(by: { suspensionCount &- $0.suspendedAt > suspensionCount &- $1.suspendedAt })
        #else
        // Release builds keep no suspension order (a 4-byte field in every task's box, which would
        // push it into a larger malloc chunk; see ``TaskBox``): by id there.
        let inOrder = waiting.sorted(by: { $0.id < $1.id })
        #endif
        for box in inOrder {
            snapshot.waiters[box.waitingOn, default: []].append(box.id)
        }
        snapshot.holders = holders.filter { !$0.value.isEmpty }
        for (primitive, probe) in primitiveProbes {
            guard let real = probe() else { continue }
            if queueSizes[primitive] != nil {
                snapshot.queueSizes[primitive] = real  // the queue's own count, not the bookkeeping
            } else if real != snapshot.holders[primitive, default: []].count {
                // The bookkeeping disagrees with the primitive: a holder that cannot be named.
                snapshot.holders[primitive] = Array(repeating: .none, count: real)
            }
        }
        return snapshot
    }

    /// Debug builds: remembers how to read `primitive`'s real state (see ``primitiveProbes``).
    func registerProbe(_ primitive: EntityID, _ probe: @escaping () -> Int?) {
        #if DEBUG
        primitiveProbes[primitive] = probe
        #endif
    }

    // MARK: - Who holds what (for the trace and the snapshot)

    /// `task` (the current one, unless a place was taken on a woken waiter's behalf) took
    /// `primitive` (a lock, a semaphore place).
    func noteAcquired(_ primitive: EntityID, value: Int, by holder: EntityID? = nil) {
        let task = holder ?? currentActor
        holders[primitive, default: []].append(task)
        emit(.primitiveAcquired, subject: primitive, other: task, value: Int64(value))
    }

    /// The current task (or, when it holds none, the first holder: asyncio lets anyone release)
    /// let `primitive` go.
    func noteReleased(_ primitive: EntityID, value: Int) {
        let task = currentActor
        if let index = holders[primitive]?.firstIndex(of: task) {
            holders[primitive]?.remove(at: index)
        } else if holders[primitive]?.isEmpty == false {
            holders[primitive]?.removeFirst()
        }
        emit(.primitiveReleased, subject: primitive, other: task, value: Int64(value))
    }

    /// `queue` now holds `count` items.
    func noteQueueSize(_ queue: EntityID, _ count: Int) {
        queueSizes[queue] = count
        emit(.queueSize, subject: queue, other: currentActor, value: Int64(count))
    }
}
