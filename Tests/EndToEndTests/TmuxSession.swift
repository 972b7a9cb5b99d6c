import Testing
import Foundation

/// A tmux server of its own (private socket) running one command in a detached pane, so a
/// test can type keys and read the screen as a user would.
final class TmuxSession {
    let socket: String
    private(set) var lastScreen = ""

    struct Timeout: Error, CustomStringConvertible {
        var waitingFor: String
        var screen: String
        var description: String { "timed out waiting for \(waitingFor); screen:\n\(screen)" }
    }

    /// Starts `command` (run by sh) in a `width` × `height` pane.
    init(width: Int, height: Int, command: String) throws {
        socket = "loopviz-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        // The server forks off and would keep a stdout pipe open forever: give it none.
        try tmux(["new-session", "-d", "-x", "\(width)", "-y", "\(height)", command], readOutput: false)
    }

    deinit {
        _ = try? tmux(["kill-server"])
        // A killed server can leave its socket file behind in tmux's folder.
        try? FileManager.default.removeItem(atPath: "/tmp/tmux-\(getuid())/\(socket)")
    }

    /// The pane's text now.
    func capture() throws -> String {
        lastScreen = try tmux(["capture-pane", "-p"])
        return lastScreen
    }

    func send(_ keys: String...) throws {
        try tmux(["send-keys"] + keys)
    }

    func resize(width: Int, height: Int) throws {
        try tmux(["resize-window", "-x", "\(width)", "-y", "\(height)"])
    }

    /// Polls the screen until `condition` holds (at most `timeout` seconds); returns that screen.
    /// A capture can catch a frame half written (tmux takes the output in chunks: the top of a new
    /// help panel over the bottom of the old log), so a screen that matches is captured once more a
    /// moment later, and that second screen is returned if it still matches.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 10, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let screen = try capture()
            if condition(screen) {
                usleep(40_000)
                let settled = try capture()
                if condition(settled) || Date() > deadline { return condition(settled) ? settled : screen }
                continue
            }
            if Date() > deadline { throw Timeout(waitingFor: what, screen: screen) }
            usleep(30_000)
        }
    }

    /// Polls until the screen contains `text`.
    @discardableResult
    func waitFor(_ text: String, timeout: Double = 10) throws -> String {
        try waitFor("\"\(text)\"", timeout: timeout) { $0.contains(text) }
    }

    /// Runs tmux with posix_spawn and waitpid. Foundation's Process is not used here: it learns
    /// that a child ended when a descriptor the child inherited closes, and the tmux server that
    /// `new-session` forks off keeps that descriptor open, so the wait would never end.
    @discardableResult
    private func tmux(_ arguments: [String], readOutput: Bool = true) throws -> String {
        try TmuxSession.spawn(["tmux", "-L", socket] + arguments, readOutput: readOutput)
    }

    static func spawn(_ arguments: [String], readOutput: Bool) throws -> String {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SpawnError(arguments: arguments) }
        defer { close(fds[0]) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if readOutput {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        } else {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var environment = ProcessInfo.processInfo.environment
        for stale in ["TMUX", "LINES", "COLUMNS"] { environment.removeValue(forKey: stale) }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Children inherit blocked and ignored signals; the test runner's threads block some, and a
        // terminal program must see SIGWINCH and friends as a shell would give them.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(fds[1])
        guard spawned == 0 else { throw SpawnError(arguments: arguments) }
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while readOutput {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            output.append(contentsOf: buffer[0..<count])
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return String(decoding: output, as: UTF8.self)
    }

    struct SpawnError: Error {
        var arguments: [String]
    }

    /// A shell command line that runs loopviz in the pane, then reports its exit status and the
    /// terminal's modes (so a test can see the shell got a sane terminal back), then lingers.
    static func command(_ loopvizArguments: String, environment: String = "LANG=C.UTF-8") -> String {
        "\(environment) \(Loopviz.path) \(loopvizArguments); echo \"EXIT=$?\"; echo MODES: $(stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(echo|icanon)'); sleep 60"
    }
}

/// The status line's step counter (`step k/N`), shared by the tests that step a program.
func stepCounter(_ screen: String) -> String? {
    guard let line = screen.split(separator: "\n").last(where: { $0.contains(" step ") && $0.contains("│") && $0.contains("/") }),
          let range = line.range(of: #"step \d+/\d+"#, options: .regularExpression) else { return nil }
    return String(line[range])
}

/// The count program stepped from its first step: each `s` must run exactly one scheduling step
/// (main, the three count tasks, then a timer), the status naming the next one; then the three
/// lanes sleep side by side. Shared by the built-in count and CPython's count.py. Returns the
/// last screen.
func stepCountOneKeyAtATime(_ tmux: TmuxSession) throws -> String {
    var screen = ""
    let expectedNext = ["step count#1", "step count#2", "step count#3", "timer sleep → count#1 ready"]
    for (index, next) in expectedNext.enumerated() {
        try tmux.send("s")
        screen = try tmux.waitFor("step \(index + 1)/\(index + 1)")
        usleep(150_000)  // had the key run two steps, the counter would move on meanwhile
        screen = try tmux.capture()
        #expect(stepCounter(screen) == "step \(index + 1)/\(index + 1)")
        #expect(screen.contains("next: t=") && screen.contains(next))
    }
    let lanes = screen.split(separator: "\n").filter { $0.hasPrefix("count#") }
    #expect(lanes.count == 3)
    #expect(lanes.allSatisfy { $0.contains("░") || $0.contains("·") })
    return screen
}
