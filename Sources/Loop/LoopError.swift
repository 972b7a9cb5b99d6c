import Trace

/// Why ``EventLoop/run(_:_:)`` could not finish.
public enum LoopError: Error, Equatable, CustomStringConvertible {
    /// A task that can never run again, and what it waits for.
    public struct StuckTask: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var waitingFor: String
        public var description: String { "\(name) (\(waitingFor))" }
        public init(name: String, waitingFor: String) {
            self.name = name
            self.waitingFor = waitingFor
        }
    }

    /// Nothing is ready, no timer is pending and no other thread can give the loop work,
    /// yet these tasks have not finished.
    case deadlock(stuck: [StuckTask])
    /// ``EventLoop/stop()`` ended the run before the root task finished.
    case stopped

    public var description: String {
        switch self {
        case .deadlock(let stuck):
            "deadlock: no task can ever run again; stuck: " + stuck.map(\.description).joined(separator: ", ")
        case .stopped:
            "the loop was stopped before the program finished"
        }
    }
}

extension SuspendReason {
    /// The lane state of a task suspended for this reason.
    var taskState: TaskState {
        switch self {
        case .yield: .yielded
        case .sleep: .sleeping
        case .event, .primitive, .other: .waiting
        case .children: .awaitingChildren
        case .io: .waitingIO
        }
    }

    /// How a person would say it: "waiting on Event#1".
    var words: String {
        switch self {
        case .yield: "yielded"
        case .sleep: "sleeping"
        case .event: "waiting on"
        case .children: "awaiting"
        case .primitive: "waiting on"
        case .other: "suspended outside the loop"
        case .io: "waiting on I/O"
        }
    }
}
