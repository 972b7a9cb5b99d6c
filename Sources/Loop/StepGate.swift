import Trace

/// What the loop is about to do, handed to a ``StepGate`` before it does it.
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
}

/// Consulted by the loop thread before each scheduling step. An implementation may block (the
/// live UI's step mode waits for a key press); the loop's time does not move meanwhile on the
/// virtual clock.
public protocol StepGate: AnyObject, Sendable {
    func beforeStep(_ step: StepPreview)
    /// Called when the loop, on time that does not flow (step mode, paused), has nothing to run
    /// and is about to jump to the next timer's deadline, `step.time`, to run `step`. A gate that
    /// holds steps holds this too — so time stands still while the user looks — and, once it lets
    /// the jump go, lets `step` itself through without asking again: one key, one step.
    func beforeTimeJump(_ step: StepPreview)
}

extension StepGate {
    public func beforeTimeJump(_ step: StepPreview) {}
}
