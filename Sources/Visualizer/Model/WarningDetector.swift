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
    /// Per primitive's base name: the tasks waiting on it now (``waiting`` turned around, so a
    /// check costs the primitives in trouble, not every waiter times every waiter).
    private var waitersByKey: [String: Set<EntityID>] = [:]
    /// Primitives whose holder finished without letting go, with that holder.
    private var abandoned: [String: EntityID] = [:]
    /// Base names by entity, computed once (a name is split only the first time it is seen).
    private var keys: [EntityID: String] = [:]
    /// Per task, by id (ids are small and dense): alive (spawned, not done), stuck (cannot move
    /// by itself: waiting on a primitive or awaiting tasks), finished, waiting (in ``waiting``).
    /// Bits in an array, not sets: every task record touches them, on the viewer's ingest path.
    private var taskBits: [UInt8] = []
    private static let aliveBit: UInt8 = 1, stuckBit: UInt8 = 2, finishedBit: UInt8 = 4, waitingBit: UInt8 = 8
    private var aliveCount = 0
    private var stuckCount = 0
    /// Callbacks scheduled or queued and not run yet: any of them might still let a task go.
    private var pendingCallbacks = 0
    /// Listening sockets open: a connection could spawn a task that reaches the primitive.
    private var listeners: Set<EntityID> = []
    /// (task, primitive) pairs already reported.
    private var reported: Set<[EntityID]> = []

    /// Takes in one record; returns the lost wake-ups it reveals as (waiting task, primitive, why).
    mutating func observe(_ record: TraceRecord, names: NameTable) -> [(task: EntityID, primitive: EntityID, text: String)] {
        switch record.kind {
        case .taskSpawned, .taskReady, .taskResumed, .taskSuspended, .awaitNext:
            // A task seen without its spawn (a viewer attached late) is alive all the same.
            if !has(record.subject, Self.finishedBit) { set(record.subject, Self.aliveBit, true) }
        default:
            break
        }
        switch record.kind {
        case .taskSpawned:
            set(record.subject, Self.stuckBit, false)
        case .taskSuspended where record.state == .waiting && record.other != .none:
            setWaiting(record.subject, on: record.other, names: names)
            set(record.subject, Self.stuckBit, true)
            users[key(record.other, names), default: []].insert(record.subject)
            return check(names)
        case .taskSuspended where record.state == .awaitingChildren, .awaitNext:
            set(record.subject, Self.stuckBit, true)
            return check(names)
        case .taskSuspended:
            set(record.subject, Self.stuckBit, false)  // sleeping, on I/O, yielding, outside the loop
        case .taskReady, .taskResumed:
            setWaiting(record.subject, on: nil, names: names)
            set(record.subject, Self.stuckBit, false)
            if record.kind == .taskReady, record.value != 0 {
                users[key(EntityID(rawValue: UInt32(truncatingIfNeeded: record.value)), names), default: []].insert(record.other)
            }
        case .taskDone:
            setWaiting(record.subject, on: nil, names: names)
            set(record.subject, Self.aliveBit, false)
            set(record.subject, Self.stuckBit, false)
            set(record.subject, Self.finishedBit, true)
            for (primitive, holding) in holders where abandoned[primitive] == nil && holding.contains(record.subject) {
                abandoned[primitive] = record.subject
            }
            return check(names)
        case .eventSet, .eventCleared:
            users[key(record.subject, names), default: []].insert(record.other)
        case .primitiveAcquired:
            let primitive = key(record.subject, names)
            users[primitive, default: []].insert(record.other)
            holders[primitive, default: []].append(record.other)
        case .primitiveReleased:
            let primitive = key(record.subject, names)
            users[primitive, default: []].insert(record.other)
            if let index = holders[primitive]?.firstIndex(of: record.other) {
                holders[primitive]?.remove(at: index)
            } else if holders[primitive]?.isEmpty == false {
                holders[primitive]?.removeFirst()
            }
            if let holder = abandoned[primitive], holders[primitive]?.contains(holder) != true { abandoned[primitive] = nil }
        case .queueSize where record.other != .none:
            users[key(record.subject, names), default: []].insert(record.other)
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

    /// `Queue#1 not empty` → `Queue#1`, once per entity.
    private mutating func key(_ id: EntityID, _ names: NameTable) -> String {
        if let known = keys[id] { return known }
        let base = String(names.name(id).split(separator: " ").first ?? "")
        keys[id] = base
        return base
    }

    private mutating func setWaiting(_ task: EntityID, on primitive: EntityID?, names: NameTable) {
        guard primitive != nil || has(task, Self.waitingBit) else { return }  // the usual case: nothing to undo
        if let old = waiting[task] { waitersByKey[key(old, names)]?.remove(task) }
        waiting[task] = primitive
        set(task, Self.waitingBit, primitive != nil)
        if let primitive { waitersByKey[key(primitive, names), default: []].insert(task) }
    }

    private func has(_ task: EntityID, _ bit: UInt8) -> Bool {
        let index = Int(task.rawValue)
        return index < taskBits.count && taskBits[index] & bit != 0
    }

    private mutating func set(_ task: EntityID, _ bit: UInt8, _ on: Bool) {
        let index = Int(task.rawValue)
        if index >= taskBits.count {
            guard on else { return }
            taskBits += repeatElement(0, count: max(index + 1 - taskBits.count, taskBits.count))  // doubling
        }
        guard (taskBits[index] & bit != 0) != on else { return }
        taskBits[index] = on ? taskBits[index] | bit : taskBits[index] & ~bit
        let change = on ? 1 : -1
        if bit == Self.aliveBit { aliveCount += change } else if bit == Self.stuckBit { stuckCount += change }
    }

    /// No live task could still act (every one is stuck on a primitive or on other tasks) and no
    /// listener could bring a new one.
    private var nobodyCanMove: Bool { listeners.isEmpty && aliveCount == stuckCount }

    /// The waiters of primitives in trouble: abandoned by a finished holder, or (when nobody can
    /// move) used only by tasks that finished. O(waiters of those primitives + their users).
    private mutating func check(_ names: NameTable) -> [(task: EntityID, primitive: EntityID, text: String)] {
        guard pendingCallbacks == 0 else { return [] }
        var found: [(task: EntityID, primitive: EntityID, text: String)] = []
        for (primitive, holder) in abandoned {
            for task in waitersByKey[primitive] ?? [] {
                guard let on = waiting[task], !reported.contains([task, on]) else { continue }
                reported.insert([task, on])
                found.append((task, on, "waits on \(primitive), held by \(names.name(holder)), which finished without releasing it: a lost wake-up"))
            }
        }
        if nobodyCanMove {
            for (primitive, waiters) in waitersByKey where !waiters.isEmpty && abandoned[primitive] == nil {
                let others = (users[primitive] ?? []).subtracting(waiters).subtracting([.none])
                guard !others.isEmpty, others.allSatisfy({ has($0, Self.finishedBit) }) else { continue }
                let who = others.sorted().map(names.name).joined(separator: ", ")
                for task in waiters {
                    guard let on = waiting[task], !reported.contains([task, on]) else { continue }
                    reported.insert([task, on])
                    found.append((task, on, "waits on \(names.name(on)), but every task that used it (\(who)) has finished: a lost wake-up?"))
                }
            }
        }
        return found.sorted { $0.task < $1.task }
    }
}
