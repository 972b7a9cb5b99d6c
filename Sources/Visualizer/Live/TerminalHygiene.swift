import Foundation
import Synchronization

/// While the screen is up, the process's stdout and stderr go into a pipe (shown in the log
/// pane), so nothing is printed over the screen; ncurses draws on a duplicate of the original
/// stdout. ``end()`` puts both back.
final class OutputCapture {
    private var savedOut: Int32 = -1
    private var savedErr: Int32 = -1
    private var readFD: Int32 = -1
    private var partial = Data()

    /// Starts capturing. Returns the terminal's file descriptor for ncurses, or nil on failure.
    func begin() -> Int32? {
        fflush(nil)  // every C stream: nothing buffered before the switch lands in the pipe
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return nil }
        let terminal = dup(STDOUT_FILENO)
        savedOut = dup(STDOUT_FILENO)
        savedErr = dup(STDERR_FILENO)
        guard terminal >= 0, savedOut >= 0, savedErr >= 0 else { return nil }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        dup2(fds[1], STDOUT_FILENO)
        dup2(fds[1], STDERR_FILENO)
        close(fds[1])
        readFD = fds[0]
        return terminal
    }

    /// Complete lines written since the last call (nil when not capturing).
    func readAvailable() -> [String]? {
        guard readFD >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(readFD, &buffer, buffer.count)
            if count <= 0 { break }
            partial.append(contentsOf: buffer[0..<count])
        }
        guard let lastNewline = partial.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        let complete = partial[partial.startIndex..<lastNewline]
        partial = Data(partial[(lastNewline + 1)...])
        return String(decoding: complete, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Restores stdout and stderr and returns the lines left in the pipe (for the caller to
    /// write to stderr: they were stray output). Safe to call more than once.
    @discardableResult
    func end() -> [String] {
        guard savedOut >= 0 else { return [] }
        var rest = readAvailable() ?? []
        if !partial.isEmpty { rest.append(String(decoding: partial, as: UTF8.self)) }
        partial = Data()
        dup2(savedOut, STDOUT_FILENO)
        dup2(savedErr, STDERR_FILENO)
        close(savedOut)
        close(savedErr)
        close(readFD)
        savedOut = -1
        readFD = -1
        return rest
    }
}

// MARK: - Signals

/// The last signal a ``SignalWatch`` handler caught (0: none). A global because a C signal
/// handler captures nothing; a lock-free atomic store is async-signal-safe.
private let caughtSignal = Atomic<Int32>(0)

/// Turns SIGTERM, SIGINT and SIGHUP into a flag the UI loop checks, so that a signal ends the
/// session through the same path as `q`: the loop is stopped and the terminal restored before
/// the process exits.
///
/// A plain `sigaction` handler rather than Dispatch signal sources. Those did deliver here (also
/// with SIGHUP ignored at start), but through libdispatch's own process-wide handler, a
/// signalfd and a re-raise trick for signals that land on a thread not blocking them, and
/// nothing put the previous dispositions back. The handler is installed whatever the inherited
/// disposition, also over a SIG_IGN left by a wrapper shell (`trap "" HUP`): a full-screen
/// session cannot outlive its terminal. (Under such a wrapper the kernel sends no SIGHUP to
/// loopviz at all when the terminal goes: see ``TerminalCheck/hasHungUp(_:)``.)
///
/// Install it before ncurses starts (ncurses installs its own SIGINT and SIGTERM handlers when
/// it finds them at their default; seen with strace, it leaves these alone), and call
/// ``restore()`` after the screen is closed: it puts back every disposition the screen changed,
/// ncurses' SIGWINCH and SIGTSTP handlers included, and this thread's signal mask.
final class SignalWatch {
    private static let watched = [SIGTERM, SIGINT, SIGHUP]
    /// The ones ncurses (and the renderer) change while the screen is up.
    private static let touchedByTheScreen = [SIGWINCH, SIGTSTP]

    private var saved: [(signal: Int32, action: sigaction)] = []
    private var savedMask = sigset_t()

    init() {
        caughtSignal.store(0, ordering: .relaxed)
        for number in Self.watched + Self.touchedByTheScreen {
            var previous = sigaction()
            sigaction(number, nil, &previous)
            saved.append((number, previous))
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in caughtSignal.store(number, ordering: .releasing) }
        sigemptyset(&action.sa_mask)
        action.sa_flags = Int32(SA_RESTART)
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for number in Self.watched {
            sigaction(number, &action, nil)
            sigaddset(&unblock, number)
        }
        // A parent may have left them blocked; threads started later (the loop's) inherit this
        // mask, so any thread may take the signal: the handler only stores a number.
        pthread_sigmask(SIG_UNBLOCK, &unblock, &savedMask)
    }

    deinit { restore() }

    /// The signal received, if any (the last one, when several came).
    var received: Int32? {
        let number = caughtSignal.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }

    /// Puts back the dispositions and the signal mask found at ``init()``. Safe to call more than once.
    func restore() {
        guard !saved.isEmpty else { return }
        for (number, action) in saved {
            var action = action
            sigaction(number, &action, nil)
        }
        saved = []
        pthread_sigmask(SIG_SETMASK, &savedMask, nil)
    }
}

// MARK: - Hang-up

extension TerminalCheck {
    /// Whether the terminal on `fd` went away (its connection dropped, its window closed, tmux
    /// was killed). The kernel tells a hung-up terminal's readers EOF and its writers EIO, and
    /// signals only the session leader — a wrapper shell that ignores SIGHUP passes nothing on —
    /// so the screen must look by itself; poll reports POLLHUP on it from then on.
    public static func hasHungUp(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: 0, revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        return entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }
}

/// Whether the live screen can run here.
public enum TerminalCheck {
    /// nil when stdout is a terminal ncurses can drive; otherwise why not, in words.
    public static func whyNotInteractive() -> String? {
        if isatty(STDOUT_FILENO) == 0 { return "stdout is not a terminal" }
        if isatty(STDIN_FILENO) == 0 {
            // Keys can still come from the controlling terminal; without one, nobody can press q.
            let tty = open("/dev/tty", O_RDONLY | O_CLOEXEC)
            if tty < 0 { return "stdin is not a terminal and there is no controlling terminal to read keys from" }
            close(tty)
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return "TERM is \(term.isEmpty ? "not set" : "dumb")" }
        return nil
    }
}
