#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem

/// Where a step ends in loop time, read from the CPU's time-stamp counter instead of the real
/// clock. Loop thread only.
///
/// Every task slice, callback and I/O handler ends with a read of the loop's time: its records
/// carry it, and the next step starts then. Through the vDSO's `clock_gettime` that read was the
/// largest single cost of a traced task switch (a tenth of it; 23 ns against 10 ns for the
/// counter on the 2-core VM the README names). The loop still reads its real clock once a pass,
/// as before, and anchors there: a step's end is the pass's real time plus the ticks since,
/// times a rate measured against the real clock over the whole run (`anchor`). A pass of a
/// millisecond is then off by well under a microsecond, and the next pass starts from the real
/// clock again, so errors never add up. Loop time never runs backwards: `read` and `anchor`
/// return at least the time they were given.
///
/// Only where that is sound: while loop time is one linear function of CLOCK_MONOTONIC — a
/// ``RealClock``, or a ``LiveClock`` between a thaw and the next freeze (its ``LiveClock/flowEpoch``
/// says which stretch; a new one starts the rate's baseline again, and a step that ends after a
/// freeze reads the clock) — on x86-64, with the kernel's clock source the TSC itself (the
/// kernel then found the counter invariant and in step on every core). Never for
/// ``VirtualClock``. Anywhere else every read goes to the clock, as before.
struct StepClock {
    private let enabled: Bool
    /// The first anchor that was a tight pair: the rate's baseline starts there.
    private var firstTicks: UInt64 = 0
    private var firstNanos: Int64 = 0
    /// The width of the baseline's first pair, and of the narrowest pair seen.
    private var firstWidth: UInt64 = 0
    private var narrowestPair = UInt64.max
    private var anchorTicks: UInt64 = 0
    private var anchorNanos: Int64 = 0
    /// Loop nanoseconds per tick; 0 until the baseline is ``minimumBaselineTicks`` long.
    private(set) var nanosPerTick: Double = 0
    /// ``nanosPerTick`` in 32.32 fixed point, for ``read(ticks:previous:)``: an integer multiply
    /// and shift where the floating-point conversions there and back were a fifth of the loop's
    /// own part of a task switch (unsigned to double, multiply, range checks, truncation).
    private var nanosPerTickFixed: UInt64 = 0
    /// ``longestInterpolation`` in ticks, at that rate.
    private var longestInterpolationTicks: UInt64 = 0
    /// The clock's flow epoch the rate and the anchor belong to (always 0 for a ``RealClock``).
    private(set) var epoch: UInt64 = 0

    /// A baseline this many ticks long (about 2 ms at 2.6 GHz, whatever the clock's speed)
    /// before the rate is used: with anchors good to half a usual pair's width each, the rate is
    /// then within about 2 parts in 10⁴, and it only gets better as the baseline grows.
    static let minimumBaselineTicks: UInt64 = 5_000_000
    /// An anchor is a real-clock read between two counter reads; the read took place somewhere
    /// between them, so the pair's width is the anchor's uncertainty. A pair is trusted when it
    /// is at most twice the narrowest seen (plus ``pairSlackTicks``) and never wider than
    /// ``widestPairTicks``: a thread preempted or interrupted between the reads makes a pair
    /// far wider than usual. (The usual width depends on the clock and the build: ~150 ticks for
    /// `RealClock` in a release build here, thousands for `LiveClock`'s lock in a debug build.)
    static let pairSlackTicks: UInt64 = 500
    static let widestPairTicks: UInt64 = 50_000
    /// A step longer than this (loop nanoseconds) reads the clock instead: it can afford the
    /// read, and the rate's error never grows past this much time's worth.
    static let longestInterpolation: Double = 1_000_000

    init(clock: any LoopClock) {
        self.init(enabled: (clock is RealClock || clock is LiveClock) && Self.counterIsSound)
    }

    init(enabled: Bool) {
        self.enabled = enabled
    }

    /// The start of a pass: `read` is the real clock's loop time, taken between counter reads
    /// `ticksBefore` and `ticksAfter`, in flow epoch `epoch` (nil: the clock was frozen, or froze
    /// or thawed meanwhile). Returns the pass's time: `read`, or `previous` when the last step's
    /// interpolated end was already later (by a rounding error's worth).
    mutating func anchor(read: Int64, previous: Int64, ticksBefore: UInt64, ticksAfter: UInt64, epoch: UInt64? = 0) -> Int64 {
        guard enabled else { return read }
        let time = max(read, previous)
        guard let epoch, epoch == self.epoch else {
            // Time stopped or started again: the old line no longer holds; measure a new one.
            nanosPerTick = 0
            nanosPerTickFixed = 0
            firstTicks = 0
            if let epoch { self.epoch = epoch } else { return time }
            return anchor(read: read, previous: previous, ticksBefore: ticksBefore, ticksAfter: ticksAfter, epoch: epoch)
        }
        guard ticksAfter >= ticksBefore else { return time }
        let width = ticksAfter - ticksBefore
        narrowestPair = min(narrowestPair, width)
        let limit = min(Self.widestPairTicks, max(2 * narrowestPair, narrowestPair + Self.pairSlackTicks))
        guard width <= limit else { return time }
        let ticks = ticksBefore / 2 + ticksAfter / 2
        if firstTicks == 0 || (!isCalibrated && firstWidth > limit) {
            // The baseline starts at a trusted pair (again, if its first pair no longer counts
            // as one now that narrower pairs have been seen).
            firstTicks = ticks
            firstNanos = read
            firstWidth = width
        } else if ticks > firstTicks && ticks - firstTicks >= Self.minimumBaselineTicks && read > firstNanos {
            nanosPerTick = Double(read - firstNanos) / Double(ticks - firstTicks)
            nanosPerTickFixed = UInt64(min((nanosPerTick * Self.fixedPointOne).rounded(), 0x1p62))
            longestInterpolationTicks = UInt64(Self.longestInterpolation / nanosPerTick)
        }
        anchorTicks = ticks
        anchorNanos = read
        return time
    }

    /// Whether ``read(ticks:previous:)`` may be asked: the rate is known.
    var isCalibrated: Bool { nanosPerTickFixed > 0 }

    /// Whether the loop anchors it at all (else it reads its clock everywhere).
    var isEnabled: Bool { enabled }

    /// The loop time at counter value `ticks`, never before `previous`; nil when the last
    /// anchor is more than ``longestInterpolation`` behind (read the clock then). Only once
    /// ``isCalibrated``.
    @inline(__always)
    func read(ticks: UInt64, previous: Int64) -> Int64? {
        guard ticks > anchorTicks else { return max(previous, anchorNanos) }
        let since = ticks - anchorTicks
        guard since <= longestInterpolationTicks else { return nil }
        // No overflow: `since` is at most a millisecond's worth of ticks, so the product is at
        // most 10⁶ · 2³² (plus a rate's rounding). Rounded to the nearest nanosecond.
        let nanos = (since &* nanosPerTickFixed &+ Self.fixedPointHalf) >> 32
        return max(previous, anchorNanos &+ Int64(truncatingIfNeeded: nanos))
    }

    private static let fixedPointOne: Double = 4_294_967_296
    private static let fixedPointHalf: UInt64 = 1 << 31

    /// x86-64, and the kernel keeps time with the TSC (it falls back to another clock source
    /// when it finds the counter unstable or out of step between cores).
    static let counterIsSound: Bool = {
        guard loopviz_has_ticks() != 0 else { return false }
        guard let file = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else { return false }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return false }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name == "tsc\n" || name == "tsc"
    }()
}
