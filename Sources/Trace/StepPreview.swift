/// What the loop is about to do, handed to a step gate before it does it (and sent to an
/// attached viewer as a `P` line). A plain value.
public struct StepPreview: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Resume a task for one slice.
        case taskSlice
        /// Fire the timer of a task's sleep (the task becomes ready).
        case timerFire
        /// Run a callback.
        case callback
        /// Handle a socket that became ready (`subject` is the socket).
        case ioReady
    }

    public var kind: Kind
    /// The task (slice, timer) or callback concerned.
    public var subject: EntityID
    /// Loop time before the step runs.
    public var time: Int64

    public init(kind: Kind, subject: EntityID, time: Int64) {
        self.kind = kind
        self.subject = subject
        self.time = time
    }
}

extension StepPreview.Kind {
    /// This kind in a live stream's `P` line. Never change one.
    public var wireName: String {
        switch self {
        case .taskSlice: "slice"
        case .timerFire: "timer"
        case .callback: "callback"
        case .ioReady: "io"
        }
    }

    public init?(wireName: String) {
        switch wireName {
        case "slice": self = .taskSlice
        case "timer": self = .timerFire
        case "callback": self = .callback
        case "io": self = .ioReady
        default: return nil
        }
    }
}
