import Trace

/// Consulted by the loop thread before each scheduling step. An implementation may block (the
/// live UI's step mode waits for a key press); the loop's time does not move meanwhile on the
/// virtual clock.
public protocol StepGate: AnyObject, Sendable {
    func beforeStep(_ step: StepPreview)
    /// True while ``beforeStep(_:)`` would let any step through at once (not stepping): the
    /// loop then does not ask, nor read its clock again after asking. Read before every step
    /// on the loop thread while other threads may change it: keep it to an atomic load.
    var letsEveryStepThrough: Bool { get }
    /// Called when the loop, on time that does not flow (step mode, paused), has nothing to run
    /// and is about to jump to the next timer's deadline, `step.time`, to run `step`. A gate that
    /// holds steps holds this too — so time stands still while the user looks — and, once it lets
    /// the jump go, lets `step` itself through without asking again: one key, one step.
    func beforeTimeJump(_ step: StepPreview)
}

extension StepGate {
    public func beforeTimeJump(_ step: StepPreview) {}
    public var letsEveryStepThrough: Bool { false }
}
