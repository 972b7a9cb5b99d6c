import Trace

/// Something about the run worth a look that is not an error: flagged on the lane and in the
/// log, and a target for the `]` / `[` jumps.
public struct RunWarning: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The task stayed ready this long while other steps ran (the loop was busy elsewhere).
        case starved(duration: Int64)
        /// The task waits on `primitive`, and nothing alive that used it can let it go.
        case lostWakeup(primitive: EntityID)
    }

    public var kind: Kind
    public var who: EntityID
    public var time: Int64
    public var step: Int
    public var text: String
}

/// Finds lost wake-ups from the trace, with no callback pending that could still reach the
/// primitive:
/// - a task waits on a lock whose holder finished without releasing it;
/// - a task waits on a lock, semaphore, queue or event, every task that ever used it (other than
///   those waiting) has finished, and no live task can still come to it.
///
/// The trace does not say which tasks can reach a primitive, and a live task that has not used
/// it yet may well do so later (a second producer that sleeps first, then puts). So the second
/// rule is conservative: it fires only when every other live task is itself stuck — waiting on a
/// primitive or awaiting other tasks — and no listening socket could spawn a new one. A task that
/// is ready, running, sleeping, waiting on I/O or suspended outside the loop could still reach
/// it, and silences the rule. That is the deadlock detector's cousin: it names the cause, and
/// it also speaks where the loop cannot tell (asyncio never reports a deadlock; a loop fed from
/// another thread). Pure; fed by ``LaneModel/apply(_:)``.
struct WarningDetector: Sendable {
    /// Per primitive (by its base name: `Queue#1 not empty` is `Queue#1`): who ever used it.
    private var users: [String: Set<EntityID>] = [:]
    /// Per primitive: who holds it now.
    private var holders: [String: [EntityID]] = [:]
    /// Task → what it waits on now (a primitive's entity).
    private var waiting: [EntityID: EntityID] = [:]
    private var finished: Set<EntityID> = []
    /// Callbacks scheduled or queued and not run yet: any of them might still let a task go.
    private var pendingCallbacks = 0
    /// Tasks spawned and not done.
    private var alive: Set<EntityID> = []
    /// Live tasks that cannot move by themselves: waiting on a primitive or awaiting tasks.
    private var stuck: Set<EntityID> = []
    /// Listening sockets open: a connection could spawn a task that reaches the primitive.
    private var listeners: Set<EntityID> = []
    /// (task, primitive) pairs already reported.
    private var reported: Set<[EntityID]> = []

    /// Takes in one record; returns the lost wake-ups it reveals as (waiting task, primitive, why).
    mutating func observe(_ record: TraceRecord, names: NameTable) -> [(task: EntityID, primitive: EntityID, text: String)] {
        func base(_ id: EntityID) -> String { String(names.name(id).split(separator: " ").first ?? "") }
        switch record.kind {
        case .taskSpawned, .taskReady, .taskResumed, .taskSuspended, .awaitNext:
            // A task seen without its spawn (a viewer attached late) is alive all the same.
            if !finished.contains(record.subject) { alive.insert(record.subject) }
        default:
            break
        }
        switch record.kind {
        case .taskSpawned:
            stuck.remove(record.subject)
        case .taskSuspended where record.state == .waiting && record.other != .none:
            waiting[record.subject] = record.other
            stuck.insert(record.subject)
            users[base(record.other), default: []].insert(record.subject)
            return check(names)
        case .taskSuspended where record.state == .awaitingChildren, .awaitNext:
            stuck.insert(record.subject)
            return check(names)
        case .taskSuspended:
            stuck.remove(record.subject)  // sleeping, on I/O, yielding, outside the loop
        case .taskReady, .taskResumed:
            waiting[record.subject] = nil
            stuck.remove(record.subject)
            if record.kind == .taskReady, record.value != 0 {
                users[base(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))), default: []].insert(record.other)
            }
        case .taskDone:
            waiting[record.subject] = nil
            alive.remove(record.subject)
            stuck.remove(record.subject)
            finished.insert(record.subject)
            return check(names)
        case .eventSet, .eventCleared:
            users[base(record.subject), default: []].insert(record.other)
        case .primitiveAcquired:
            users[base(record.subject), default: []].insert(record.other)
            holders[base(record.subject), default: []].append(record.other)
        case .primitiveReleased:
            users[base(record.subject), default: []].insert(record.other)
            if let index = holders[base(record.subject)]?.firstIndex(of: record.other) {
                holders[base(record.subject)]?.remove(at: index)
            } else if holders[base(record.subject)]?.isEmpty == false {
                holders[base(record.subject)]?.removeFirst()
            }
        case .queueSize where record.other != .none:
            users[base(record.subject), default: []].insert(record.other)
        case .timerScheduled where record.detail(as: TimerPurpose.self) == .callback, .callbackQueued:
            pendingCallbacks += 1
        case .callbackStarted:
            pendingCallbacks = max(0, pendingCallbacks - 1)
        case .callbackFinished:
            return check(names)  // the last callback gone may leave nothing that could help
        case .timerCancelled where record.detail(as: TimerPurpose.self) == .callback:
            pendingCallbacks = max(0, pendingCallbacks - 1)
            return check(names)
        case .ioOpened where record.detail(as: IOOperation.self) == .accept:
            listeners.insert(record.subject)
        case .ioClosed:
            if listeners.remove(record.subject) != nil { return check(names) }
        default:
            break
        }
        return []
    }

    /// No live task could still act (every one is stuck on a primitive or on other tasks) and no
    /// listener could bring a new one.
    private var nobodyCanMove: Bool { listeners.isEmpty && alive.count == stuck.count }  // stuck ⊆ alive

    private mutating func check(_ names: NameTable) -> [(task: EntityID, primitive: EntityID, text: String)] {
        guard pendingCallbacks == 0 else { return [] }
        var found: [(task: EntityID, primitive: EntityID, text: String)] = []
        for (task, primitive) in waiting.sorted(by: { $0.key < $1.key }) where !reported.contains([task, primitive]) {
            let key = String(names.name(primitive).split(separator: " ").first ?? "")
            let waiters = Set(waiting.filter { names.name($0.value).hasPrefix(key) }.keys)
            if let holder = holders[key]?.first(where: { finished.contains($0) }) {
                reported.insert([task, primitive])
                found.append((task, primitive, "waits on \(key), held by \(names.name(holder)), which finished without releasing it: a lost wake-up"))
                continue
            }
            let others = (users[key] ?? []).subtracting(waiters).subtracting([.none])
            guard !others.isEmpty, others.isSubset(of: finished), nobodyCanMove else { continue }
            reported.insert([task, primitive])
            let who = others.sorted().map(names.name).joined(separator: ", ")
            found.append((task, primitive, "waits on \(names.name(primitive)), but every task that used it (\(who)) has finished: a lost wake-up?"))
        }
        return found
    }
}
