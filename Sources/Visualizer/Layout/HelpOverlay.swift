/// The `?` overlay: every key, and what each glyph means.
enum HelpOverlay {
    static let keys: [(String, String)] = [
        ("q, Ctrl-C", "quit (the terminal is restored)"),
        ("space", "pause / resume the live view"),
        ("s, n, →", "one step forward (runs the loop at the live edge)"),
        ("b, ←", "one step back through the history"),
        ("c", "continue: leave step mode, run on"),
        ("p", "enter step mode (the loop waits before each step)"),
        ("t", "toggle the axis: loop time / step order (│ links waker to woken)"),
        ("+, -", "zoom in / out"),
        ("h, l", "pan the window back / forward (when zoomed)"),
        ("j, k, ↓, ↑", "select a lane: who woke it turns red, whom it woke yellow"),
        ("i, Enter", "figures of the selected lane: steps, running, ready latency, waits, wakers"),
        ("w", "the loop itself at this step: ready queue and why, timers, who waits on what"),
        ("g, G", "go to the first / the newest step"),
        ("/", "filter lanes by name (Enter keeps, Esc clears, Backspace edits)"),
        ("f", "hide / show the lanes that have finished"),
        ("T", "order lanes as the spawn tree (children indented) / as created"),
        // One line for both pairs, so that the help and its legend still fit 30 rows.
        (". , ] [", "next / previous: the selected lane's event (. ,), slow step or warning (] [)"),
        ("?", "show / hide this help"),
    ]

    static func draw(_ grid: inout Grid, glyphs: GlyphSet) {
        let legend = legendLines(glyphs)
        let lines = (["loopviz keys"] + keys.map { "\($0.0.padding(12))\($0.1)" }).map(glyphs.text) + [""] + legend
        Panel.draw(&grid, lines: lines, style: .help)
    }

    /// The full legend, from ``Vocabulary``.
    static func legendLines(_ g: GlyphSet) -> [String] {
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
