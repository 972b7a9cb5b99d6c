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

/// Finds lost wake-ups from the trace: a task waits on a lock, semaphore, queue or event, and
/// every task that ever used it (other than those waiting) has finished, with no callback
/// pending that could still reach it — or the lock's holder finished without releasing it.
/// That is the deadlock detector's cousin, for a run that still has other work (other tasks
/// sleeping, a server serving), where the loop itself cannot tell. A heuristic: a task that
/// never touched the primitive yet could still come to it; so the rule only fires once someone
/// used it and is gone. Pure; fed by ``LaneModel/apply(_:)``.
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
    /// (task, primitive) pairs already reported.
    private var reported: Set<[EntityID]> = []

    /// Takes in one record; returns the lost wake-ups it reveals as (waiting task, primitive, why).
    mutating func observe(_ record: TraceRecord, names: NameTable) -> [(task: EntityID, primitive: EntityID, text: String)] {
        func base(_ id: EntityID) -> String { String(names.name(id).split(separator: " ").first ?? "") }
        switch record.kind {
        case .taskSuspended where record.state == .waiting && record.other != .none:
            waiting[record.subject] = record.other
            users[base(record.other), default: []].insert(record.subject)
            return check(names)
        case .taskReady, .taskResumed:
            waiting[record.subject] = nil
            if record.kind == .taskReady, record.value != 0 {
                users[base(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))), default: []].insert(record.other)
            }
        case .taskDone:
            waiting[record.subject] = nil
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
        case .timerCancelled where record.detail(as: TimerPurpose.self) == .callback:
            pendingCallbacks = max(0, pendingCallbacks - 1)
        default:
            break
        }
        return []
    }

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
            guard !others.isEmpty, others.isSubset(of: finished) else { continue }
            reported.insert([task, primitive])
            let who = others.sorted().map(names.name).joined(separator: ", ")
            found.append((task, primitive, "waits on \(names.name(primitive)), but every task that used it (\(who)) has finished: a lost wake-up?"))
        }
        return found
    }
}
