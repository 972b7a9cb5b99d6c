import Synchronization

/// The clock of a watched run: real time (× speed) while it flows, virtual time while frozen.
///
/// A run shown live can be paused or stepped at any moment, and time must not pass while the
/// loop waits for a key: freezing the clock makes it behave like ``VirtualClock`` (an idle loop
/// jumps to its next deadline); thawing it lets real time flow on from the current loop time.
/// `now()`, `freeze()` and `thaw()` may be called from any thread (the UI does); the rest is for
/// the loop thread. `@unchecked Sendable` is sound: every field is `let`, and the mutable state
/// sits behind the `Mutex`.
public final class LiveClock: LoopClock, @unchecked Sendable {
    private struct State {
        /// Loop time at the last freeze or thaw.
        var base: Int64 = 0
        /// Wall time at the last thaw.
        var anchor: Int64 = 0
        var flowing: Bool
        /// The loop's wake-up, so freezing can cut a long selector wait short.
        var wakeup: Wakeup?
    }

    public let speed: Double
    private let state: Mutex<State>
    /// Bumped (under the state's lock) at every freeze and every thaw: odd while frozen. The
    /// loop's step clock reads it without the lock before each step (see ``flowEpoch``).
    private let epoch: Atomic<UInt64>

    /// - Parameters:
    ///   - speed: loop seconds per wall second while flowing.
    ///   - flowing: start with real time flowing (false: start frozen, as in step mode).
    public init(speed: Double = 1, flowing: Bool = true) {
        precondition(speed > 0 && speed.isFinite, "speed must be a positive number")
        self.speed = speed
        state = Mutex(State(anchor: RealClock.monotonicNanoseconds(), flowing: flowing))
        epoch = Atomic(flowing ? 0 : 1)
    }

    /// While real time flows, a number that changes whenever it stops or starts again: loop
    /// time is one linear function of real time for as long as it stays the same. Nil while
    /// frozen. Any thread; lock-free.
    public var flowEpoch: UInt64? {
        let value = epoch.load(ordering: .acquiring)
        return value & 1 == 0 ? value : nil
    }

    public var kind: ClockKind { .real(speed: speed) }

    /// Whether real time flows (false: frozen, virtual).
    public var isFlowing: Bool { state.withLock { $0.flowing } }

    public func now() -> Int64 {
        state.withLock { Self.now($0, speed: speed) }
    }

    /// Stops time; an idle loop then jumps to its next deadline instead of waiting for it.
    public func freeze() {
        let wakeup: Wakeup? = state.withLock { state in
            guard state.flowing else { return nil }
            state.base = Self.now(state, speed: speed)
            state.flowing = false
            epoch.add(1, ordering: .releasing)
            return state.wakeup
        }
        // Only writes when the loop is waiting in its selector; otherwise the loop sees the
        // frozen clock on its next pass anyway.
        wakeup?.signal()
    }

    /// Lets real time flow again from the current loop time.
    public func thaw() {
        state.withLock { state in
            guard !state.flowing else { return }
            state.anchor = RealClock.monotonicNanoseconds()
            state.flowing = true
            epoch.add(1, ordering: .releasing)
        }
    }

    public var flows: Bool { isFlowing }

    public func wallNanoseconds(_ loopNanoseconds: Int64) -> Int64 {
        Int64((Double(loopNanoseconds) / speed).rounded(.up))
    }

    public func jump(to deadline: Int64) {
        state.withLock { state in
            guard !state.flowing else { return }
            state.base = max(state.base, deadline)
        }
    }

    public func attach(wakeup: Wakeup) {
        state.withLock { $0.wakeup = wakeup }
    }

    public func occupy(nanoseconds: Int64) {
        if isFlowing {
            RealClock(speed: speed).occupy(nanoseconds: nanoseconds)
        } else {
            state.withLock { $0.base += max(0, nanoseconds) }
        }
    }

    private static func now(_ state: State, speed: Double) -> Int64 {
        guard state.flowing else { return state.base }
        return state.base + Int64(Double(RealClock.monotonicNanoseconds() - state.anchor) * speed)
    }
}
