/// How a cell is drawn: the renderer maps each style to a color pair and attributes; the plain
/// printer ignores styles (glyphs alone must tell states apart).
public enum CellStyle: UInt8, Sendable, CaseIterable {
    case plain, header, ruler, label, running, ready, sleeping, waiting, awaiting, timerPending, unknown
    case marker, wake, output, done, failure, dim, status, logTime, logWho, help, warning, selected
    /// Waiting on a socket.
    case waitingIO
}

/// One terminal cell: a single-width glyph and its style.
public struct Cell: Sendable, Equatable {
    public var glyph: Unicode.Scalar
    public var style: CellStyle
    public static let blank = Cell(glyph: " ", style: .plain)
}

/// An in-memory screen: what the layout draws and the renderers copy out. Every write is
/// clipped to the grid, so drawing code never needs to guard against a small terminal.
public struct Grid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        self.cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(row: Int, column: Int) -> Cell {
        get { contains(row, column) ? cells[row * width + column] : .blank }
        set { if contains(row, column) { cells[row * width + column] = newValue } }
    }

    public func contains(_ row: Int, _ column: Int) -> Bool {
        row >= 0 && row < height && column >= 0 && column < width
    }

    /// Writes `text` from (row, column), at most `limit` cells, clipped to the grid. Returns the
    /// column after the last cell written.
    @discardableResult
    public mutating func put(_ text: String, row: Int, column: Int, style: CellStyle = .plain, limit: Int = .max) -> Int {
        var x = column
        let end = limit == .max ? width : min(width, column + max(0, limit))
        for scalar in text.unicodeScalars {
            if x >= end { break }
            self[row, x] = Cell(glyph: scalar.properties.generalCategory == .control ? "?" : scalar, style: style)
            x += 1
        }
        return x
    }

    /// Fills a row from `column` to the right edge.
    public mutating func fill(row: Int, from column: Int = 0, with cell: Cell) {
        guard row >= 0 && row < height, column < width else { return }
        for x in max(0, column)..<width { self[row, x] = cell }
    }

    /// The grid as text, one line per row, trailing blanks trimmed.
    public var text: String {
        var lines: [String] = []
        for row in 0..<height {
            var line = String.UnicodeScalarView()
            for column in 0..<width { line.append(cells[row * width + column].glyph) }
            var string = String(line)
            while string.last == " " { string.removeLast() }
            lines.append(string)
        }
        return lines.joined(separator: "\n")
    }
}
