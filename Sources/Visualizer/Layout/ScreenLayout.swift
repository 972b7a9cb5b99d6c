import Trace

/// Lays a whole frame out into a ``Grid``: header, ruler, lanes, log pane, status line and
/// (on `?`) the help overlay. Pure: the same model and view give the same grid.
public enum ScreenLayout {
    /// The live screen at `width` × `height`. Anything that does not fit is left out, down to 1×1.
    public static func screen(model: LaneModel, view: ViewState, width: Int, height: Int) -> Grid {
        var grid = Grid(width: width, height: height)
        guard width > 0, height > 0 else { return grid }
        let shown = view.shownLanes(in: model)
        drawHeader(&grid, row: 0, model: model, view: view, shown: shown)
        let body = height - 2  // header and status line
        guard body > 0 else { return grid }
        let laneRowsWanted = max(shown.rows.count, 1) + 1  // + ruler; a filter that matches nothing says so on a row
        // The log takes the rows the lanes leave, and at least a few when the screen is tall enough
        // (lanes then scroll); on a tiny screen the lanes get everything.
        let spare = body >= 10
            ? max(body - laneRowsWanted, LayoutConstants.minimumLogRows + 1)
            : max(0, body - laneRowsWanted)
        let logRows = spare >= 2 ? spare : 0
        let laneRows = body - logRows
        drawLanes(&grid, top: 1, rows: laneRows, model: model, view: view, shown: shown)
        if logRows > 0 {
            if view.showLoopState {
                drawLoopState(&grid, top: 1 + laneRows, rows: logRows, model: model, view: view)
            } else {
                drawLog(&grid, top: 1 + laneRows, rows: logRows, model: model, view: view)
            }
        }
        drawStatus(&grid, row: height - 1, model: model, view: view, shown: shown)
        if view.showStats, model.lanes.indices.contains(view.selectedLane) {
            let lane = model.lanes[view.selectedLane]
            let now = view.cursor.map { model.shownStep($0) }.flatMap { model.hasStep($0) ? model.step($0).time : nil }
                ?? max(view.now, model.lastTime)
            let statistics = TaskStatistics.of(lane, in: model, now: now)
            var lines = statistics.lines
            // The distribution right under the percentiles it details.
            let histogram = LatencyHistogram(latencies: statistics.latencies).lines(unicode: view.glyphs.unicodeText)
            if !histogram.isEmpty { lines.insert(contentsOf: histogram, at: min(4, lines.count)) }
            lines += ["", "i: close   j/k: another lane"]
            Panel.draw(&grid, lines: lines.map(view.glyphs.text), style: .help)
        }
        if view.showHelp { HelpOverlay.draw(&grid, glyphs: view.glyphs) }
        return grid
    }

    /// The picture `--plain` prints: header, ruler and every lane, `width` wide.
    public static func plain(model: LaneModel, view: ViewState, width: Int) -> Grid {
        let shown = view.shownLanes(in: model)
        var grid = Grid(width: width, height: shown.rows.count + 2)
        drawHeader(&grid, row: 0, model: model, view: view, shown: shown)
        drawLanes(&grid, top: 1, rows: shown.rows.count + 1, model: model, view: view, shown: shown)
        return grid
    }

    // MARK: - Sections

    /// `loopviz count │ LIVE │ t=0.473s │ real clock │ 23 events │ 0 dropped │ axis: time │ ? help`,
    /// most important first, so a narrow terminal cuts the least useful parts. Lost records are
    /// never silent: right after the mode, in the warning style; nor are hidden lanes, next.
    static func drawHeader(_ grid: inout Grid, row: Int, model: LaneModel, view: ViewState, shown: ShownLanes) {
        grid.fill(row: row, with: Cell(glyph: " ", style: .header))
        let now = view.playhead ?? (model.isFinished ? model.lastTime : max(view.now, model.lastTime))
        let time = ScheduleFormat.formatSeconds(Double(now) / 1e9)
        let clock = view.clockFrozen && view.clock != .virtual ? "\(view.clock) clock, frozen" : "\(view.clock) clock"
        let separator = " \(view.glyphs.separatorBar) "
        var column = grid.put(view.glyphs.text(" loopviz \(view.scenario)\(separator)\(view.mode.rawValue)"), row: row, column: 0, style: .header)
        if model.dropped > 0 {
            column = grid.put(separator, row: row, column: column, style: .header)
            column = grid.put(" \(model.dropped) LOST ", row: row, column: column, style: .warning)
        }
        if let hidden = view.hiddenLanesSummary(shown) {
            column = grid.put(separator + hidden, row: row, column: column, style: .header)
        }
        // `? help` early: at 80 columns the tail of the header is cut.
        let rest = ["t=\(time)s", clock, "? help", events(model), "\(model.dropped) dropped",
                    view.axis == .time ? "axis: time" : "axis: steps"]
        grid.put(view.glyphs.text(separator + rest.joined(separator: separator)), row: row, column: column, style: .header)
    }

    /// `1203 events`, and once the history was trimmed, how many of them left memory:
    /// `1203400 events, 200000 trimmed` (and how many finished lanes retired).
    static func events(_ model: LaneModel) -> String {
        var text = "\(model.eventCount) events"
        if model.firstRecordIndex > 0 { text += ", \(model.firstRecordIndex) trimmed" }
        if model.retiredLanes > 0 { text += ", \(model.retiredLanes) lanes retired" }
        return text
    }

    static func drawLanes(_ grid: inout Grid, top: Int, rows: Int, model: LaneModel, view: ViewState, shown: ShownLanes) {
        guard rows > 0 else { return }
        let labels = shown.rows.map { ViewState.label($0, in: model) }
        let longest = labels.map(\.unicodeScalars.count).max() ?? 4
        let labelWidth = view.labelWidth ?? min(longest + 1, LayoutConstants.maxLabelWidth, max(1, grid.width / 3))
        let axisWidth = max(1, grid.width - labelWidth)
        let layout = LaneLayout(model: model, view: view, columns: axisWidth)
        let ruler = layout.ruler(width: axisWidth)
        grid.put(view.axis == .time ? "time" : "step", row: top, column: 0, style: .ruler, limit: labelWidth - 1)
        for (offset, cell) in ruler.enumerated() { grid[top, labelWidth + offset] = cell }
        let laneRows = rows - 1
        guard laneRows > 0 else { return }
        if shown.rows.isEmpty && shown.hidden > 0 {
            let why = view.activeFilter.isEmpty
                ? "every lane has finished (f shows them)" : "no lane matches /\(view.activeFilter) (Esc clears)"
            grid.put(view.glyphs.text(why), row: top + 1, column: 0, style: .dim)
            return
        }
        // Scrolling counts shown rows: the selected lane's row, not its index in the model.
        let selectedRow = shown.position(ofLane: view.selectedLane)
        var scroll = min(max(0, view.laneScroll), max(0, shown.rows.count - laneRows))
        // The selected lane is always on screen: the list scrolls to it.
        if let selectedRow, selectedRow < scroll { scroll = selectedRow }
        if let selectedRow, selectedRow >= scroll + laneRows {
            scroll = min(selectedRow - laneRows + 1, max(0, shown.rows.count - laneRows))
        }
        // Who woke the selected lane, and whom it woke (in the window, up to the step shown): their names stand
        // out, so causality reads on the time axis too.
        let selected = model.lanes.indices.contains(view.selectedLane) ? model.lanes[view.selectedLane].id : EntityID.none
        var wokeSelected = Set<EntityID>(), wokenBySelected = Set<EntityID>()
        // Only the wake-ups within the window: a long history has hundreds of thousands.
        let wakes = model.wakes
        let firstShown = layout.window.axis == .step ? layout.window.firstStep
            : model.trimmedSteps + 1 + Search.partition(model.steps.count) { model.steps[$0].time < layout.window.startTime }
        let firstWake = Search.partition(wakes.count) { wakes[$0].step < firstShown }
        for edge in wakes[firstWake...] where edge.waker != edge.woken {
            guard edge.step <= layout.cursorStep else { break }
            if edge.woken == selected { wokeSelected.insert(edge.waker) }
            if edge.waker == selected { wokenBySelected.insert(edge.woken) }
        }
        var rowOf: [EntityID: Int] = [:]
        for (position, shownRow) in shown.rows.enumerated().dropFirst(scroll).prefix(laneRows) {
            let lane = model.lanes[shownRow.lane]
            let row = top + 1 + position - scroll
            rowOf[lane.id] = row
            let style: CellStyle = shownRow.lane == view.selectedLane ? .selected
                : wokeSelected.contains(lane.id) ? .wake : wokenBySelected.contains(lane.id) ? .marker : (lane.isDone ? .dim : .label)
            grid.put(labels[position], row: row, column: 0, style: style, limit: labelWidth - 1)
            for (offset, cell) in layout.cells(of: lane).enumerated() { grid[row, labelWidth + offset] = cell }
        }
        if view.axis == .step {
            drawWakeArrows(&grid, model: model, layout: layout, rowOf: rowOf, left: labelWidth, width: axisWidth, glyphs: view.glyphs, selected: selected)
        }
        if shown.rows.count > laneRows {
            // Lanes are off screen: say how many in the ruler's label, in place of the axis name,
            // so that no lane's own label is covered.
            grid.put(String(repeating: " ", count: max(0, labelWidth - 1)), row: top, column: 0, style: .ruler)
            grid.put("+\(shown.rows.count - laneRows) j/k", row: top, column: 0, style: .warning, limit: labelWidth - 1)
        }
    }

    /// Step order reads like a sequence diagram: in the column of the step that woke a task, a
    /// vertical connector runs from the waker's lane (its running cell: the callback that set the
    /// event, the task that released the lock, the child that finished, the writer of the bytes)
    /// to the woken lane's wake marker. No slice or marker of a lane in between is hidden; the
    /// selected lane's wake-ups cross other lanes' waits too, the others only empty cells, so a
    /// busy run (echo) stays readable and `j`/`k` brings any lane's causality forward.
    static func drawWakeArrows(_ grid: inout Grid, model: LaneModel, layout: LaneLayout, rowOf: [EntityID: Int], left: Int, width: Int,
                               glyphs: GlyphSet, selected: EntityID) {
        let first = layout.window.firstStep
        // Wake edges are in step order: the visible ones are a slice, found by binary search.
        let start = Search.partition(model.wakes.count) { model.wakes[$0].step < first }
        for edge in model.wakes[start...] {
            guard edge.step <= layout.cursorStep else { break }
            guard edge.waker != .none, edge.waker != edge.woken,
                  let from = rowOf[edge.waker], let to = rowOf[edge.woken] else { continue }
            let column = layout.window.column(step: edge.step)
            guard column >= 0, column < width else { continue }
            let emphasized = edge.waker == selected || edge.woken == selected
            for row in (min(from, to) + 1)..<max(from, to) {
                let cell = grid[row, left + column]
                switch cell.style {
                case .running, .marker, .wake, .output, .done, .failure, .warning: continue
                default:
                    guard emphasized || cell.glyph == " " else { continue }
                    grid[row, left + column] = Cell(glyph: glyphs.connector, style: .wake)
                }
            }
        }
    }

    static func drawLog(_ grid: inout Grid, top: Int, rows: Int, model: LaneModel, view: ViewState) {
        grid.fill(row: top, with: Cell(glyph: view.glyphs.separator, style: .ruler))
        grid.put(" output ", row: top, column: 2, style: .ruler)
        let cursorStep = view.cursor ?? Int.max
        let names = model.names
        // The log is in step order: the lines up to the cursor are a prefix, found by binary search.
        let shown = Search.partition(model.log.count) { model.log[$0].step <= cursorStep }
        var entries: [(time: String, who: String, text: String, style: CellStyle)] = model.log[max(0, shown - rows)..<shown].map {
            (ScheduleFormat.formatSeconds(Double($0.time) / 1e9), names.name($0.who), $0.text,
             $0.isDiagnostic ? .warning : $0.isError ? .failure : .plain)
        }
        entries += view.capturedLines.map { ("     ", "stdout", $0, .plain) }
        // When the log leaves its last row free, a one-line legend goes there, so a newcomer can
        // read the lanes without opening the help.
        let legend = Vocabulary.shortLegend(view.glyphs, withIO: model.sawIO)
        if entries.count < rows - 2 && rows >= 4 {
            grid.put(legend, row: top + rows - 1, column: 0, style: .dim)
        }
        for (offset, entry) in entries.suffix(rows - 1).enumerated() {
            let row = top + 1 + offset
            var column = grid.put(entry.time, row: row, column: 0, style: .logTime)
            column = grid.put(entry.who, row: row, column: column + 1, style: .logWho)
            grid.put(entry.text, row: row, column: column + 1, style: entry.style)
        }
    }

    /// The loop's state for the step shown, in the log's place (`w`).
    static func drawLoopState(_ grid: inout Grid, top: Int, rows: Int, model: LaneModel, view: ViewState) {
        let shown = model.shownStep(view.cursor)
        let atEdge = view.cursor == nil || shown == model.stepCount
        let (title, lines) = LoopStatePanel.lines(model: model, after: shown, pending: atEdge ? view.nextStep : nil,
                                                  pendingPreview: atEdge ? view.nextPreview : nil,
                                                  liveNow: atEdge && !model.isFinished ? max(view.now, model.lastTime) : nil)
        grid.fill(row: top, with: Cell(glyph: view.glyphs.separator, style: .ruler))
        grid.put(view.glyphs.text(" \(title) (w: output) "), row: top, column: 2, style: .ruler)
        for (offset, line) in lines.prefix(rows - 1).enumerated() {
            let style: CellStyle = offset == 0 ? .logWho : (line.hasPrefix("  ") ? .plain : .logTime)
            grid.put(view.glyphs.text(line), row: top + 1 + offset, column: 0, style: style)
        }
        if lines.count > rows - 1 {
            grid.put(view.glyphs.text("… \(lines.count - rows + 1) more lines (--plain --loop-state prints all)"), row: top + rows - 1, column: 0, style: .dim)
        }
    }

    static func drawStatus(_ grid: inout Grid, row: Int, model: LaneModel, view: ViewState, shown: ShownLanes) {
        grid.fill(row: row, with: Cell(glyph: " ", style: .status))
        if let draft = view.filterDraft {
            // The `/` prompt, as less and vim put it: the text typed, a cursor, and what it does.
            let bar = view.glyphs.separatorBar
            let matches = "\(shown.rows.count) of \(shown.rows.count + shown.hidden) lanes"
            grid.put(view.glyphs.text(" /\(draft)_  \(matches) \(bar) Enter: keep \(bar) Esc: clear"), row: row, column: 0, style: .status)
            return
        }
        let total = model.stepCount
        let shown = model.shownStep(view.cursor)
        var text: String
        if let notice = view.notice {
            text = notice
        } else if let next = view.nextStep, shown == total {
            text = "next: \(next)"
        } else if shown > 0 {
            text = StepDescription.describe(step: shown, in: model)
        } else {
            text = "waiting for the first step"
        }
        if !model.stuckTasks.isEmpty && shown == total {
            text = "DEADLOCK, nothing can run again: " + model.stuckTasks.joined(separator: "; ")
        } else if let error = view.runError, shown == total {
            text = "\(error) — \(text)"
        } else if view.mode == .finished && shown == total {
            let outcome = model.outcome.map { "\($0)" } ?? "?"
            text = "finished (\(outcome)) at t=\(ScheduleFormat.formatSeconds(Double(model.lastTime) / 1e9))s — \(text)"
        }
        grid.put(view.glyphs.text(" step \(shown)/\(total) \(view.glyphs.separatorBar) \(text)"), row: row, column: 0, style: .status)
    }
}
