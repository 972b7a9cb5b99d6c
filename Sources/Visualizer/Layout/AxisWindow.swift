import Trace

/// Maps loop time or step numbers to columns of the lane area for one frame.
struct AxisWindow {
    let axis: TimeAxis
    let columns: Int
    /// Time axis: the window's start and length in nanoseconds.
    let startTime: Int64
    let span: Int64
    /// Step axis: the step shown in column 0.
    let firstStep: Int

    /// The window for a frame: the time axis fits the run so far into a "nice" span (1, 2 or 5
    /// × 10^k) and follows the live edge; the step axis shows the newest steps that fit.
    init(axis: TimeAxis, columns: Int, endTime: Int64, endStep: Int, zoom: Int, pan: Int) {
        self.axis = axis
        self.columns = max(1, columns)
        // A loop waiting for a deadline years away (`sleep(1e9)`, a damaged stream) must not
        // overflow the arithmetic below: the window never spans more than ~11 days.
        let endTime = min(max(0, endTime), 1_000_000_000_000_000)
        let fullSpan = AxisWindow.niceSpan(atLeast: max(endTime + endTime / 20, 1_000_000))
        var span = fullSpan
        for _ in 0..<max(0, zoom) where span > 1_000 { span /= 2 }
        self.span = span
        let latestStart = max(0, endTime - span * 9 / 10)
        self.startTime = zoom > 0 ? max(0, latestStart - Int64(pan) * span / 4) : 0
        let visibleSteps = self.columns - 1
        self.firstStep = max(1, endStep - visibleSteps + 1 - pan * max(1, visibleSteps / 4))
    }

    /// Column of loop time `t` (may fall outside the window).
    func column(time t: Int64) -> Int {
        Self.clampedColumn((Double(t) - Double(startTime)) / Double(span) * Double(columns), .down)
    }

    /// A column from a fractional position, clamped far outside any screen (a damaged or huge
    /// time must never trap in an Int conversion).
    static func clampedColumn(_ position: Double, _ rule: FloatingPointRoundingRule) -> Int {
        guard position.isFinite else { return position > 0 ? 1_000_000 : -1_000_000 }
        return Int(min(max(position.rounded(rule), -1_000_000), 1_000_000))
    }

    /// Column of step `s` (1-based).
    func column(step s: Int) -> Int { s - firstStep }

    /// The columns a segment covers; at least one, however short it is.
    func columns(of segment: LaneSegment, openEndTime: Int64, openEndStep: Int) -> ClosedRange<Int> {
        switch axis {
        case .time:
            let start = column(time: segment.startTime)
            let end = segment.endTime ?? openEndTime
            guard end > segment.startTime else { return start...start }
            let last = Self.clampedColumn((Double(end) - Double(startTime)) / Double(span) * Double(columns), .up) - 1
            return start...max(start, last)
        case .step:
            let start = column(step: segment.startStep)
            return start...max(start, column(step: segment.endStep ?? openEndStep))
        }
    }

    /// Column of a marker: wake-ups sit just before the slice they lead to (time axis) or in the
    /// step that caused them; what a slice did (printed, finished, set) sits just after it.
    func column(of marker: LaneMarker) -> Int {
        let offset: Int
        switch marker.kind {
        case .output, .done, .eventSet, .wrote: offset = 1
        case .timerFired, .woken: offset = axis == .time ? -1 : 0
        case .gap, .slowStep, .warning: offset = 0
        }
        switch axis {
        case .time: return column(time: marker.time) + offset
        case .step: return column(step: marker.step) + offset
        }
    }

    /// Smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k nanoseconds that is ≥ `nanoseconds`:
    /// a round span that wastes little of the screen.
    static func niceSpan(atLeast nanoseconds: Int64) -> Int64 {
        var base: Int64 = 100
        while true {
            for factor: Int64 in [10, 12, 15, 20, 25, 30, 40, 50, 60, 80] where base * factor >= nanoseconds { return base * factor }
            if base > Int64.max / 100 { return nanoseconds }
            base *= 10
        }
    }

    /// Smallest of 1, 2, 5 × 10^k nanoseconds that is ≥ `nanoseconds`: ruler ticks.
    static func tickSpan(atLeast nanoseconds: Int64) -> Int64 {
        var base: Int64 = 1
        while true {
            for factor: Int64 in [1, 2, 5] where base * factor >= nanoseconds { return base * factor }
            if base > Int64.max / 100 { return nanoseconds }
            base *= 10
        }
    }
}
