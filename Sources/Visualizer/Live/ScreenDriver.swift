import Foundation

/// What a full-screen session (a live run, a replay) supplies to the screen driver.
protocol ScreenSession: AnyObject {
    /// Takes in whatever changed (new records, the loop's state, playback time); returns
    /// whether the picture must be redrawn.
    func update() -> Bool
    /// Whether time moves on screen by itself, so frames are drawn at ~30 fps even without news.
    var isMoving: Bool { get }
    /// The frame at this size.
    func frame(width: Int, height: Int, captured: [String]) -> Grid
    /// Applies a key's action (quitting and resizing are the driver's).
    func apply(_ action: UIAction)
}

/// The terminal side shared by every full-screen session: it captures stdout and stderr, opens
/// ncurses, runs the update / draw / key loop, and restores the terminal on every way out
/// (`q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP).
enum ScreenDriver {
    enum Ending {
        /// `q`: the session's own status applies.
        case quit
        /// Ctrl-C or a signal: 128 + the signal number, as a shell reports it.
        case interrupted(Int32)
    }

    /// Runs `session` until the user leaves. Returns nil when no terminal UI could start (no
    /// terminfo entry): the caller falls back to plain output. `afterStart` runs once the screen
    /// is up (a live session starts its loop thread there).
    static func run(_ session: any ScreenSession, afterStart: () -> Void = {}) -> (ending: Ending, captured: [String])? {
        let capture = OutputCapture()
        let colors = ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        guard let terminalFD = capture.begin() else { return nil }
        guard let renderer = CursesRenderer(terminalFD: terminalFD, colors: colors) else {
            capture.end()
            return nil
        }
        let signals = SignalWatch()
        afterStart()
        var captured: [String] = []
        var lastDraw = ContinuousClock.now
        var needsDraw = true
        var ending: Ending?
        while ending == nil {
            if let signal = signals.received {
                ending = .interrupted(signal)
                break
            }
            if session.update() { needsDraw = true }
            if let lines = capture.readAvailable(), !lines.isEmpty {
                captured.append(contentsOf: lines)
                needsDraw = true
            }
            if needsDraw || (session.isMoving && ContinuousClock.now - lastDraw >= .milliseconds(33)) {
                let size = renderer.size
                renderer.draw(session.frame(width: size.width, height: size.height, captured: captured))
                lastDraw = ContinuousClock.now
                needsDraw = false
            }
            if let key = renderer.readKey(timeoutMilliseconds: 10), let action = KeyMap.action(for: key) {
                switch action {
                case .quit: ending = .quit
                case .interrupt: ending = .interrupted(SIGINT)
                case .resize: renderer.handleResize()
                default: session.apply(action)
                }
                needsDraw = true
            }
        }
        renderer.end()
        capture.end()
        return (ending ?? .quit, captured)
    }
}
