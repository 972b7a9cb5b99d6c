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

/// The loop's source of time, injected so that tests run on virtual time. It only tells time:
/// waiting is the selector's job (``EventLoop`` polls its epoll instance for as long as the
/// clock says loop time needs to pass). All times are loop nanoseconds since the loop's start.
/// Used on the loop thread only, except where a conforming type says otherwise.
public protocol LoopClock: AnyObject {
    var kind: ClockKind { get }
    /// The current loop time.
    func now() -> Int64
    /// Whether time passes by itself right now. False for virtual (or frozen) time: an idle
    /// loop then jumps to its next deadline with ``jump(to:)`` instead of waiting for it.
    var flows: Bool { get }
    /// How many wall nanoseconds `loopNanoseconds` of loop time last (the `--speed` scale).
    func wallNanoseconds(_ loopNanoseconds: Int64) -> Int64
    /// Moves time that does not flow forward to `deadline` (never backwards).
    func jump(to deadline: Int64)
    /// The loop thread is busy for `nanoseconds` of loop time (a blocking call in a task).
    func occupy(nanoseconds: Int64)
    /// Called once when the loop starts: a clock whose flow can change from another thread
    /// (``LiveClock``) signals `wakeup` to cut a long selector wait short.
    func attach(wakeup: Wakeup)
}

extension LoopClock {
    public func attach(wakeup: Wakeup) {}
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

    public var flows: Bool { true }

    public func wallNanoseconds(_ loopNanoseconds: Int64) -> Int64 {
        speed == 1 ? loopNanoseconds : Int64((Double(loopNanoseconds) / speed).rounded(.up))
    }

    public func jump(to deadline: Int64) {}

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

    public var flows: Bool { false }

    public func wallNanoseconds(_ loopNanoseconds: Int64) -> Int64 { loopNanoseconds }

    public func jump(to deadline: Int64) {
        current = max(current, deadline)
    }

    public func occupy(nanoseconds: Int64) {
        current += max(0, nanoseconds)
    }
}
