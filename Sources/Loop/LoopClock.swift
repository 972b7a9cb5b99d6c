#if canImport(Glibc)
import Glibc
#endif

/// Which clock a loop runs on, as the trace header and the screen name it.
public enum ClockKind: Sendable, Equatable, CustomStringConvertible {
    /// The monotonic clock; loop seconds are `1 / speed` wall seconds long.
    case real(speed: Double)
    /// Deterministic time that jumps to the next deadline whenever nothing is ready.
    case virtual

    public var description: String {
        switch self {
        case .real(let speed): speed == 1 ? "real" : "real ×\(speed)"
        case .virtual: "virtual"
        }
    }
}

/// The loop's source of time, injected so that tests run on virtual time.
/// All times are loop nanoseconds since the loop's start. Used on the loop thread only.
public protocol LoopClock: AnyObject {
    var kind: ClockKind { get }
    /// The current loop time.
    func now() -> Int64
    /// Lets time pass until `deadline` (or forever when nil) unless `wakeup` is signalled first.
    /// A real clock blocks the thread; the virtual clock jumps to `deadline` at once.
    func idle(until deadline: Int64?, wakeup: Wakeup)
    /// The loop thread is busy for `nanoseconds` of loop time (a blocking call in a task).
    func occupy(nanoseconds: Int64)
}

/// `CLOCK_MONOTONIC`, optionally slowed down or sped up by `speed` (0.25: a loop second lasts 4 s).
public final class RealClock: LoopClock {
    public let speed: Double
    private let start: Int64

    public init(speed: Double = 1) {
        precondition(speed > 0 && speed.isFinite, "speed must be a positive number")
        self.speed = speed
        self.start = RealClock.monotonicNanoseconds()
    }

    public var kind: ClockKind { .real(speed: speed) }

    @inline(__always)
    public func now() -> Int64 {
        let wall = RealClock.monotonicNanoseconds() - start
        return speed == 1 ? wall : Int64(Double(wall) * speed)
    }

    public func idle(until deadline: Int64?, wakeup: Wakeup) {
        guard let deadline else {
            wakeup.wait(timeoutNanoseconds: nil)
            return
        }
        let remaining = deadline - now()
        if remaining <= 0 { return }
        wakeup.wait(timeoutNanoseconds: Int64((Double(remaining) / speed).rounded(.up)))
    }

    public func occupy(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        let wall = Int64(Double(nanoseconds) / speed)
        var request = timespec(tv_sec: Int(wall / 1_000_000_000), tv_nsec: Int(wall % 1_000_000_000))
        var rest = timespec()
        while nanosleep(&request, &rest) != 0 && errno == EINTR { request = rest }
    }

    @inline(__always)
    static func monotonicNanoseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Time that only moves when the loop has nothing ready (it jumps to the next deadline) or a
/// task blocks the loop on purpose. Runs are instant and their traces deterministic.
public final class VirtualClock: LoopClock {
    private var current: Int64 = 0

    public init() {}

    public var kind: ClockKind { .virtual }

    public func now() -> Int64 { current }

    public func idle(until deadline: Int64?, wakeup: Wakeup) {
        if let deadline {
            // Work posted from another thread meanwhile is picked up on the next pass anyway.
            wakeup.cancelWait()
            current = max(current, deadline)
        } else {
            // Nothing will ever come due: only another thread can give the loop work.
            wakeup.wait(timeoutNanoseconds: nil)
        }
    }

    public func occupy(nanoseconds: Int64) {
        current += max(0, nanoseconds)
    }
}
