import Foundation
import Trace

/// Draws lanes (and the ruler above them) into a rectangle of a ``Grid``.
struct LaneLayout {
    let model: LaneModel
    let view: ViewState
    let window: AxisWindow
    /// The newest step shown and the loop time it stands for.
    let cursorStep: Int
    let cursorTime: Int64

    init(model: LaneModel, view: ViewState, columns: Int) {
        self.model = model
        self.view = view
        let cursorStep = model.shownStep(view.cursor)
        self.cursorStep = cursorStep
        let atLiveEdge = view.cursor == nil || cursorStep == model.stepCount
        let liveTime = model.isFinished ? model.lastTime : max(view.now, model.lastTime)
        let stepTime = model.time(ofStep: cursorStep)
        self.cursorTime = atLiveEdge ? liveTime : max(stepTime, view.playhead ?? stepTime)
        // Live, the window already spans the deadline the loop waits for, so the ruler does not
        // rescale while a sleep runs. In step order, open states run one column past the newest step.
        let horizon = view.fixedHorizon ?? (atLiveEdge && !model.isFinished ? max(cursorTime, model.idleDeadline ?? 0) : cursorTime)
        self.window = AxisWindow(axis: view.axis, columns: columns, endTime: horizon, endStep: cursorStep + 1,
                                 zoom: view.zoom, pan: view.pan)
    }

    /// One lane's cells across the window. Later, higher-priority paint wins: states, then
    /// markers, then running slices (a slice is never hidden).
    func cells(of lane: Lane) -> [Cell] {
        var row = Array(repeating: Cell.blank, count: window.columns)
        var priority = Array(repeating: 0, count: window.columns)
        func paint(_ range: ClosedRange<Int>, _ cell: Cell, _ level: Int) {
            let lower = max(range.lowerBound, 0), upper = min(range.upperBound, window.columns - 1)
            guard lower <= upper else { return }
            for column in lower...upper where priority[column] <= level {
                row[column] = cell
                priority[column] = level
            }
        }
        let openEndStep = cursorStep + 1
        for segment in visibleSegments(of: lane) {
            var clipped = segment
            if let endStep = segment.endStep, endStep > cursorStep || (segment.endTime ?? 0) > cursorTime {
                clipped.endStep = nil
                clipped.endTime = nil
            }
            let range = window.columns(of: clipped, openEndTime: cursorTime, openEndStep: openEndStep)
            let level = segment.state == .running ? 10 : (segment.state == .ready ? 3 : 2)
            if window.axis == .time, clipped.endTime == nil, case .sleeping(let until) = segment.state, until > cursorTime {
                // The rest of a running sleep, up to its deadline: what the task waits for.
                let (first, last) = (range.upperBound + 1, window.column(time: until) - 1)
                if first <= last {
                    paint(first...last, Cell(glyph: view.glyphs.timerPending, style: .timerPending), 1)
                }
            }
            paint(range, view.glyphs.cell(for: segment.state), level)
            if window.axis == .time, clipped.endTime == nil, case .sleeping(let until) = segment.state, until < cursorTime,
               model.runningStep != nil {
                // Its deadline passed while a step holds the loop (a stall, seen live): from the
                // deadline on it is due and waiting for the loop, so it is drawn ready now, not
                // only once the stall ends and the late timer's record arrives.
                let late = window.column(time: until)
                if late <= range.upperBound { paint(max(late, range.lowerBound)...range.upperBound, view.glyphs.cell(for: .ready), 3) }
            }
        }
        for marker in visibleMarkers(of: lane) where marker.step <= cursorStep && marker.time <= cursorTime {
            let column = window.column(of: marker)
            paint(column...column, view.glyphs.cell(for: marker.kind), Self.priority(of: marker.kind))
        }
        return row
    }

    /// Segments that can touch the window, found by binary search (segments are in time and
    /// step order and do not overlap), so a frame costs O(visible) per lane, not O(history).
    private func visibleSegments(of lane: Lane) -> Slice<LaneSegments> {
        let segments = model.segments(of: lane)
        let (windowStart, windowEnd) = visibleRange()
        // First segment that ends at or after the window's start...
        let first = Search.partition(segments.count) { index in
            switch window.axis {
            case .time: (segments[index].endTime ?? .max) < windowStart
            case .step: Int64(segments[index].endStep ?? .max) < windowStart
            }
        }
        // ...up to the first that starts after the window's end (or after the cursor).
        let end = Search.partition(segments.count) { index in
            switch window.axis {
            case .time: segments[index].startTime <= windowEnd && segments[index].startStep <= cursorStep
            case .step: Int64(segments[index].startStep) <= windowEnd && segments[index].startStep <= cursorStep
            }
        }
        return segments[first..<max(first, end)]
    }

    /// Markers within the window (markers are in time order), one column of slack on each side.
    private func visibleMarkers(of lane: Lane) -> Slice<LaneMarkers> {
        let markers = model.markers(of: lane)
        let (windowStart, windowEnd) = visibleRange()
        let first = Search.partition(markers.count) { index in
            window.axis == .time ? markers[index].time < windowStart : Int64(markers[index].step) < windowStart - 1
        }
        let end = Search.partition(markers.count) { index in
            window.axis == .time ? markers[index].time <= windowEnd && markers[index].step <= cursorStep
                : Int64(markers[index].step) <= min(windowEnd, Int64(cursorStep))
        }
        return markers[first..<max(first, end)]
    }

    /// The window as times (time axis) or steps (step axis), a little wider than the screen so
    /// that markers drawn one column off their instant are not lost at the edges.
    private func visibleRange() -> (Int64, Int64) {
        switch window.axis {
        case .time:
            let slack = window.span / Int64(window.columns) * 2
            return (window.startTime - slack, min(window.startTime + window.span + slack, cursorTime))
        case .step:
            return (Int64(window.firstStep - 1), Int64(window.firstStep + window.columns))
        }
    }

    private static func priority(of marker: LaneMarker.Kind) -> Int {
        switch marker {
        case .done, .gap: 8
        case .slowStep: 11  // above the slice itself: the long slice is the problem shown
        case .warning: 9
        case .woken, .timerFired: 7  // causality first: who woke this lane
        case .eventSet: 6
        case .output: 5
        case .wrote: 4
        }
    }

    /// The ruler: tick marks with labels in seconds (time axis) or step numbers (step axis).
    func ruler(width: Int) -> [Cell] {
        var row = Array(repeating: Cell(glyph: view.glyphs.rulerLine, style: .ruler), count: max(0, width))
        guard width > 0 else { return row }
        func label(_ text: String, at column: Int) {
            guard column >= 0, column < width else { return }
            row[column] = Cell(glyph: view.glyphs.rulerTick, style: .ruler)
            for (offset, scalar) in view.glyphs.text(text).unicodeScalars.enumerated() where column + 1 + offset < width {
                row[column + 1 + offset] = Cell(glyph: scalar, style: .ruler)
            }
        }
        switch window.axis {
        case .time:
            // A tick every 1/2/5 × 10^k so labels stay at least ~8 columns apart.
            let minimumGap = Int64(Double(window.span) * 8 / Double(max(1, width)))
            let tick = AxisWindow.tickSpan(atLeast: max(1, minimumGap))
            var t = (window.startTime + tick - 1) / tick * tick
            while window.column(time: t) < width {
                label(Self.secondsLabel(t, tick: tick), at: window.column(time: t))
                t += tick
            }
        case .step:
            let every = width >= 60 ? 10 : 5
            var step = (window.firstStep + every - 1) / every * every
            if window.firstStep == 1 { label("1", at: 0) }
            while window.column(step: step) < width {
                if step > 1 { label("\(step)", at: window.column(step: step)) }
                step += every
            }
        }
        return row
    }

    /// `0s`, `0.25s`, `1.5s`, `250ms` — as short as the tick allows.
    static func secondsLabel(_ t: Int64, tick: Int64) -> String {
        if t == 0 { return "0s" }
        if tick < 1_000_000 && t < 1_000_000 { return "\(formatTrimmed(Double(t) / 1e3))µs" }
        if t < 1_000_000_000 { return "\(formatTrimmed(Double(t) / 1e6))ms" }
        return "\(formatTrimmed(Double(t) / 1e9))s"
    }

    static func formatTrimmed(_ value: Double) -> String {
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }
}
