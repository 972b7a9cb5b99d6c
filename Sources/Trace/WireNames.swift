// The names a recording (and, later, a stream to a viewer) spells kinds and states with. They are
// part of the file format: written out here, case by case, so that renaming a Swift case never
// changes a recording, and a recording made today still reads after a rename.

extension TraceKind {
    /// This kind in a recording. Never change one: add a new kind instead.
    public var wireName: String {
        switch self {
        case .taskSpawned: "taskSpawned"
        case .taskReady: "taskReady"
        case .taskResumed: "taskResumed"
        case .taskSuspended: "taskSuspended"
        case .taskDone: "taskDone"
        case .timerScheduled: "timerScheduled"
        case .timerFired: "timerFired"
        case .callbackStarted: "callbackStarted"
        case .callbackFinished: "callbackFinished"
        case .eventSet: "eventSet"
        case .eventCleared: "eventCleared"
        case .output: "output"
        case .loopIdle: "loopIdle"
        case .gap: "gap"
        case .runFinished: "runFinished"
        case .ioReady: "ioReady"
        case .ioRead: "ioRead"
        case .ioWritten: "ioWritten"
        case .ioAccepted: "ioAccepted"
        case .ioOpened: "ioOpened"
        case .ioClosed: "ioClosed"
        case .loopPolled: "loopPolled"
        case .callbackQueued: "callbackQueued"
        case .timerDue: "timerDue"
        case .timerCancelled: "timerCancelled"
        case .relayQueued: "relayQueued"
        case .ioQueued: "ioQueued"
        case .primitiveAcquired: "primitiveAcquired"
        case .primitiveReleased: "primitiveReleased"
        case .queueSize: "queueSize"
        case .awaitNext: "awaitNext"
        }
    }

    /// The kind a recording's name stands for.
    public static let byWireName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.wireName, $0) })
}

extension TaskState {
    /// This state in a recording. Never change one.
    public var wireName: String {
        switch self {
        case .unknown: "unknown"
        case .ready: "ready"
        case .running: "running"
        case .sleeping: "sleeping"
        case .waiting: "waiting"
        case .awaitingChildren: "awaitingChildren"
        case .yielded: "yielded"
        case .done: "done"
        case .waitingIO: "waitingIO"
        }
    }

    public static let byWireName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.wireName, $0) })
}

extension EntityKind {
    /// This kind of name in a recording. Never change one.
    public var wireName: String {
        switch self {
        case .task: "task"
        case .callback: "callback"
        case .event: "event"
        case .primitive: "primitive"
        case .text: "text"
        case .socket: "socket"
        }
    }

    public static let byWireName = Dictionary(uniqueKeysWithValues: allCases.map { ($0.wireName, $0) })
}
