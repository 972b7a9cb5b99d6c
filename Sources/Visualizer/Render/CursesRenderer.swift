import CNcurses
import Foundation

/// The thin ncurses layer: opens the terminal, copies a ``Grid`` to it, reads keys, and
/// restores the terminal. The only code that calls ncurses, and only from the UI thread.
final class CursesRenderer {
    private let screen: OpaquePointer
    private let output: UnsafeMutablePointer<FILE>
    /// Where keys are read: stdin, or /dev/tty when stdin is not the terminal.
    private let input: UnsafeMutablePointer<FILE>
    private let useColor: Bool
    private var ended = false
    private var repaintAll = false
    private let terminalFD: Int32

    /// Opens the terminal on `terminalFD` (a duplicate of the original stdout, so the program's
    /// own stdout can be captured meanwhile). Returns nil when there is no usable terminfo entry.
    init?(terminalFD: Int32, colors wanted: Bool) {
        setlocale(LC_ALL, "")
        // Size from the terminal itself, never from $LINES/$COLUMNS: those go stale on resize.
        use_env(false)
        // ncurses turns SIGWINCH into KEY_RESIZE only if the signal is neither ignored nor blocked
        // when it starts; a parent process may have left it either way.
        signal(SIGWINCH, SIG_DFL)
        var winch = sigset_t()
        sigemptyset(&winch)
        sigaddset(&winch, SIGWINCH)
        pthread_sigmask(SIG_UNBLOCK, &winch, nil)
        self.terminalFD = terminalFD
        // Keys come from stdin when it is the terminal; otherwise (`< /dev/null`, a script) from
        // the controlling terminal, as `less` does. No terminal to read from: no screen.
        guard let input = isatty(STDIN_FILENO) != 0 ? lv_stdin() : fopen("/dev/tty", "r") else { return nil }
        guard let output = fdopen(terminalFD, "w") else { return nil }
        guard let screen = newterm(nil, output, input) else {
            fclose(output)
            if input != lv_stdin() { fclose(input) }
            return nil
        }
        self.input = input
        self.output = output
        self.screen = screen
        _ = set_term(screen)
        raw()  // Ctrl-C arrives as a key, handled like q, so the terminal is always restored.
        noecho()
        keypad(lv_stdscr(), true)
        // Escape closes the `/` prompt: ncurses waits this long for the rest of an escape
        // sequence (an arrow key) before it reports a lone Escape; its default, 1 s, feels stuck.
        set_escdelay(25)
        curs_set(0)
        useColor = wanted && has_colors()
        if useColor {
            start_color()
            use_default_colors()
            for style in CellStyle.allCases {
                let (foreground, background) = Self.colors(for: style, colorCount: Int(lv_colors()))
                init_pair(Int16(style.rawValue) + 1, foreground, background)
            }
        }
        // use_env(false) made newterm take terminfo's default size (80×24): take the window's
        // real size now, so the very first frame fills the terminal (140×40, or 20×6).
        takeWindowSize()
    }

    deinit { end() }

    /// Restores the terminal (cursor, echo, cooked mode). Safe to call more than once.
    func end() {
        guard !ended else { return }
        ended = true
        curs_set(1)
        endwin()
        delscreen(screen)
        fflush(output)
        if input != lv_stdin() { fclose(input) }
    }

    /// Gives the terminal up without a word: it hung up, and every write to it would fail (EIO).
    /// The screen's memory is left to the process's exit.
    func abandon() {
        ended = true
    }

    /// The terminal's size now.
    var size: (width: Int, height: Int) {
        (Int(lv_cols()), Int(lv_lines()))
    }

    /// Takes a resize into account. ncurses' own idea of the new size can be wrong when it reads
    /// it mid-resize (seen in tmux: 80×24 for a 40×12 pane), so the size comes from the terminal
    /// itself; and since the terminal may have cut or reflowed lines, the next draw repaints all.
    func handleResize() {
        takeWindowSize()
        repaintAll = true
    }

    /// Sets ncurses' size to the terminal's (`TIOCGWINSZ` on the terminal's fd).
    private func takeWindowSize() {
        var size = winsize()
        if ioctl(terminalFD, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0, size.ws_col > 0 {
            resize_term(Int32(size.ws_row), Int32(size.ws_col))
        }
    }

    /// Copies the grid to the screen and shows it.
    func draw(_ grid: Grid) {
        if repaintAll {
            clear()
            repaintAll = false
        } else {
            erase()
        }
        for row in 0..<grid.height {
            for column in 0..<grid.width {
                let cell = grid[row, column]
                let (attributes, pair) = style(cell.style)
                // Writing the bottom-right cell scrolls some terminals: ncurses reports ERR there; harmless.
                _ = lv_put_wchar(Int32(row), Int32(column), wchar_t(cell.glyph.value), attributes, pair)
            }
        }
        refresh()
    }

    /// The next key, or nil after `timeoutMilliseconds` without one.
    func readKey(timeoutMilliseconds: Int32) -> Key? {
        timeout(timeoutMilliseconds)
        let code = getch()
        guard code != lv_err() else { return nil }
        return KeyCode.key(code)
    }

    private func style(_ style: CellStyle) -> (attr_t, Int16) {
        let pair: Int16 = useColor ? Int16(style.rawValue) + 1 : 0
        var attributes: attr_t = 0
        switch style {
        case .header, .status, .help, .selected: attributes = lv_a_reverse()
        case .running, .marker, .wake, .failure, .warning, .output, .waitingIO: attributes = lv_a_bold()
        case .dim, .timerPending, .ruler: attributes = lv_a_dim()
        default: break
        }
        if useColor && (style == .header || style == .status) { attributes = 0 }
        return (attributes, pair)
    }

    /// Each lane state has a color of its own. Eight colors run out: waiting on I/O, the last
    /// state, gets orange where the terminal has 256 colors and white on blue elsewhere.
    static func colors(for style: CellStyle, colorCount: Int) -> (Int16, Int16) {
        let black = Int16(COLOR_BLACK), red = Int16(COLOR_RED), green = Int16(COLOR_GREEN)
        let yellow = Int16(COLOR_YELLOW), blue = Int16(COLOR_BLUE), magenta = Int16(COLOR_MAGENTA)
        let cyan = Int16(COLOR_CYAN), white = Int16(COLOR_WHITE), none: Int16 = -1
        switch style {
        case .plain, .label, .selected: return (none, none)
        case .header, .status: return (black, cyan)
        case .help: return (black, white)
        case .ruler, .dim, .timerPending: return (none, none)
        case .running: return (green, none)
        case .ready: return (yellow, none)
        case .sleeping: return (blue, none)
        case .waiting: return (magenta, none)
        case .awaiting: return (cyan, none)
        case .waitingIO: return colorCount >= 256 ? (208, none) : (white, blue)
        case .unknown, .failure: return (red, none)
        case .marker: return (yellow, none)
        case .wake: return (red, none)
        case .output: return (white, none)
        case .done: return (green, none)
        case .logTime: return (cyan, none)
        case .logWho: return (yellow, none)
        case .warning: return (white, red)
        }
    }
}

/// Key codes the session needs, read through the shim (ncurses defines them as macros).
enum KeyCode {
    static let left = lv_key_left(), right = lv_key_right(), up = lv_key_up(), down = lv_key_down()
    static let home = lv_key_home(), end = lv_key_end(), pageDown = lv_key_npage(), pageUp = lv_key_ppage()
    static let resize = lv_key_resize()
    static let backspace = lv_key_backspace(), enter = lv_key_enter()
    static let escape: Int32 = 27

    /// ncurses' code as a ``Key`` (nil for codes loopviz has no use for).
    static func key(_ code: Int32) -> Key? {
        switch code {
        case left: .left
        case right: .right
        case up: .up
        case down: .down
        case home: .home
        case end: .end
        case pageUp: .pageUp
        case pageDown: .pageDown
        case resize: .resize
        case escape: .escape
        case enter: .enter
        case backspace: .backspace
        case 0..<128: Unicode.Scalar(UInt32(code)).map(Key.character)
        default: nil
        }
    }
}
