/// The `?` overlay: every key, and what each glyph means.
public enum HelpOverlay {
    /// Each description fits 60 columns, so the help fits an 80-column terminal.
    static let keys: [(String, String)] = [
        ("q, Ctrl-C", "quit (the terminal is restored)"),
        ("space", "pause / resume (time stands still while paused)"),
        ("s, n, →", "one step forward (runs the loop at the live edge)"),
        ("b, ←", "one step back through the history"),
        ("c", "continue: leave step mode, run on"),
        ("p", "step mode: the loop waits before each step"),
        ("t", "axis: loop time / step order (│ links waker to woken)"),
        ("+ - h l", "zoom in / out, pan back / forward (when zoomed)"),
        ("j, k, ↓, ↑", "select a lane: its wakers turn red, whom it woke yellow"),
        ("i, Enter", "the selected lane's figures and ready-latency histogram"),
        ("w", "the loop itself: ready queue and why, timers, waiters"),
        ("g, G", "first / newest step"),
        ("/", "filter lanes by name (Enter keeps, Esc clears)"),
        ("f", "hide / show the lanes that have finished"),
        ("T", "lanes as the spawn tree / as created"),
        // One line for both pairs, so that the help and its legend fit 30 rows.
        (". , ] [", "next / previous: the lane's event; slow step or warning"),
        ("?", "show / hide this help"),
    ]

    static func draw(_ grid: inout Grid, glyphs: GlyphSet) {
        var keyLines = (["loopviz keys"] + keys.map { "\($0.0.padding(12))\($0.1)" }).map(glyphs.text)
        var legend = legendLines(glyphs)
        // A short terminal (80×24) gets the one-line legend instead of the full one. The panel
        // has the grid's height less 2 rows, and 2 of those are its border.
        if keyLines.count + 1 + legend.count > grid.height - 4 {
            // (Its "? help" is this very panel: dropped, so the line fits 80 columns.)
            legend = [String(Vocabulary.shortLegend(glyphs, withIO: true).dropLast(" ? help".count))]
            keyLines[0] = "loopviz keys (every glyph: a taller terminal, or --plain)"
        }
        Panel.draw(&grid, lines: keyLines + [""] + legend, style: .help)
    }

    /// The full legend, from ``Vocabulary``.
    public static func legendLines(_ g: GlyphSet) -> [String] {
        Vocabulary.legend.map { line in line.map { "\(g.glyph($0)) \($0.sentence)" }.joined(separator: "  ") }
    }
}

/// A box of text lines centred on the grid (the help, the per-task figures).
enum Panel {
    static func draw(_ grid: inout Grid, lines: [String], style: CellStyle) {
        let width = min(grid.width - 2, (lines.map(\.unicodeScalars.count).max() ?? 0) + 4)
        let height = min(grid.height - 2, lines.count + 2)
        guard width > 4, height > 2 else { return }
        let left = max(0, (grid.width - width) / 2), top = max(0, (grid.height - height) / 2)
        for row in top..<(top + height) {
            for column in left..<(left + width) { grid[row, column] = Cell(glyph: " ", style: style) }
        }
        for (index, line) in lines.prefix(height - 2).enumerated() {
            grid.put(line, row: top + 1 + index, column: left + 2, style: style, limit: width - 4)
        }
    }
}

extension String {
    /// Pads with spaces to at least `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
