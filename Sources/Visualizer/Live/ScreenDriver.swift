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
    /// Whether keys are text now (the `/` prompt is open), not commands.
    var acceptsText: Bool { get }
}

/// The terminal side shared by every full-screen session: it captures stdout and stderr, opens
/// ncurses, runs the update / draw / key loop, and restores the terminal on every way out
/// (`q`, Ctrl-C, SIGTERM, SIGINT, SIGHUP) — unless the terminal itself is gone, when nothing
/// more is written to it.
enum ScreenDriver {
    enum Ending: Equatable {
        /// `q`: the session's own status applies.
        case quit
        /// Ctrl-C, SIGINT or SIGTERM: 128 + the signal number, as a shell reports it.
        case interrupted(Int32)
        /// The terminal went away (it hung up, or SIGHUP came): 129, and nothing is printed.
        case hungUp
    }

    /// Runs `session` until the user leaves. Returns nil when no terminal UI could start (no
    /// terminfo entry): the caller falls back to plain output. `afterStart` runs once the screen
    /// is up (a live session starts its loop thread there); `beforeClose` runs when the session
    /// ends, while the screen, the capture and the signal handlers are still in place (a live
    /// session stops its loop thread there).
    static func run(
        _ session: any ScreenSession, afterStart: () -> Void = {}, beforeClose: (Ending) -> Void = { _ in }
    ) -> (ending: Ending, captured: [String], leftover: [String])? {
        // Before ncurses starts: it takes SIGINT and SIGTERM over when it finds them at their default.
        let signals = SignalWatch()
        defer { signals.restore() }
        let capture = OutputCapture()
        let colors = ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true
        guard let terminalFD = capture.begin() else { return nil }
        guard let renderer = CursesRenderer(terminalFD: terminalFD, colors: colors) else {
            capture.end()
            return nil
        }
        afterStart()
        var captured: [String] = []
        var lastDraw = ContinuousClock.now
        var needsDraw = true
        var ending: Ending?
        while ending == nil {
            if let signal = signals.received {
                ending = signal == SIGHUP ? .hungUp : .interrupted(signal)
                break
            }
            // A hung-up terminal reads as EOF at once, so without this the loop would spin on.
            if TerminalCheck.hasHungUp(terminalFD) {
                ending = .hungUp
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
            if let key = renderer.readKey(timeoutMilliseconds: 10), let action = KeyMap.action(for: key, typing: session.acceptsText) {
                switch action {
                case .quit: ending = .quit
                case .interrupt: ending = .interrupted(SIGINT)
                case .resize: renderer.handleResize()
                default: session.apply(action)
                }
                needsDraw = true
            }
        }
        let ended = ending ?? .quit
        beforeClose(ended)
        // A SIGHUP sent by hand leaves a terminal to restore; a real hang-up leaves none.
        let terminalGone = TerminalCheck.hasHungUp(terminalFD)
        if terminalGone { renderer.abandon() } else { renderer.end() }
        // Stray output still in the pipe is the caller's to print (on stderr), not ours.
        let leftover = capture.end()
        return (ended, captured, terminalGone ? [] : leftover)
    }
}
