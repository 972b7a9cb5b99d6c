import Foundation
import Loop
import Synchronization
import Trace

/// Step-through mode: the loop thread waits here before each scheduling step until the UI
/// grants one (or lets the loop run on). Thread-safe: the loop thread blocks in
/// ``beforeStep(_:)``, the UI thread (or an attach server's thread) calls the rest.
/// `@unchecked Sendable`: every field is guarded by `condition`, but `open`, an atomic copy of
/// `!stepping` (written under `condition`) that the loop reads before each step without locking.
public final class StepController: StepGate, @unchecked Sendable {
    private let condition = NSCondition()
    private var stepping: Bool
    private var permits = 0
    private var waiting: StepPreview?
    private var stepsTaken = 0
    /// Set by ``release()``: the gate never holds the loop again.
    private var released = false
    /// The step after a granted time jump goes through without a second permit.
    private var passNextStep = false
    /// `!stepping`, for ``letsEveryStepThrough``: a running loop passes the gate without taking
    /// the lock at every step.
    private let open: Atomic<Bool>

    public init(stepping: Bool) {
        self.stepping = stepping
        open = Atomic(!stepping)
    }

    /// Relaxed: a step that starts just as the user pauses runs, as if the key came a moment later.
    public var letsEveryStepThrough: Bool { open.load(ordering: .relaxed) }

    // MARK: - Loop thread

    public func beforeStep(_ step: StepPreview) {
        condition.lock()
        defer { condition.unlock() }
        if passNextStep {
            passNextStep = false
            stepsTaken += 1
            return
        }
        guard stepping && !released else { return }
        waiting = step
        while stepping && permits == 0 { condition.wait() }
        if permits > 0 { permits -= 1 }
        waiting = nil
        stepsTaken += 1
    }

    /// Holds the jump of frozen time to the next timer like the timer's own step: the header
    /// and the lanes stay at the current time until the user asks for that step.
    public func beforeTimeJump(_ step: StepPreview) {
        condition.lock()
        defer { condition.unlock() }
        guard stepping && !released else { return }
        waiting = step
        while stepping && permits == 0 { condition.wait() }
        if permits > 0 {
            permits -= 1
            passNextStep = true
        }
        waiting = nil
    }

    // MARK: - UI thread

    /// The step the loop is waiting to run, if it waits.
    public var pendingStep: StepPreview? {
        condition.lock()
        defer { condition.unlock() }
        return waiting
    }

    public var isStepping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stepping
    }

    /// Lets exactly one step run.
    public func grantStep() {
        condition.lock()
        permits += 1
        condition.signal()
        condition.unlock()
    }

    /// Makes the loop wait before its next step.
    public func enterStepMode() {
        condition.lock()
        stepping = !released
        open.store(!stepping, ordering: .relaxed)
        permits = 0
        passNextStep = false
        condition.unlock()
    }

    /// Lets the loop run freely again.
    public func runOn() {
        condition.lock()
        stepping = false
        open.store(true, ordering: .relaxed)
        permits = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Lets a loop waiting at the gate go, and every later step through: the session is ending and
    /// the loop must be able to wind down (its own stop makes it skip the gate, but a loop already
    /// waiting here would never look again).
    public func release() {
        condition.lock()
        released = true
        stepping = false
        open.store(true, ordering: .relaxed)
        permits = 0
        condition.broadcast()
        condition.unlock()
    }
}
