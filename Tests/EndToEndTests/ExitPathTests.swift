import Foundation
import Testing

/// Every way out of a live run, each repeated a few times: the terminal going away (tmux killed),
/// SIGTERM, Ctrl-C, `q`, an error, and `q` while the loop waits at a step. Each must end
/// promptly with the shell's status for it, leave no loopviz process behind, give the terminal
/// back sane when there still is one, and stop the loop thread before the process exits — which
/// the recording shows: a stopped loop writes its `runFinished` record, and the recording is
/// closed only after the loop thread has ended.
@Suite("exit paths of the live screen", .serialized)
struct ExitPathTests {
    /// `RunOutcome.stopped.rawValue`, the detail byte of the `runFinished` record of a stopped loop.
    private static let stoppedOutcome = "3"
    /// How long any way out may take. The loop thread is waited for at most 3 s before loopviz
    /// gives up on it, so a loop that was never let go shows up as a slow exit.
    private static let promptly = 2.0

    /// The files one run leaves: the loopviz pid, the recording, and (hang-up runs) the exit
    /// status written by the wrapper shell that outlives the pane.
    private struct Files {
        let base = FileManager.default.temporaryDirectory
            .appendingPathComponent("loopviz-exit-\(getpid())-\(UUID().uuidString.prefix(8))").path
        var pid: String { base + ".pid" }
        var recording: String { base + ".lvt" }
        var status: String { base + ".status" }

        func removeAll() {
            for path in [pid, recording, status] { try? FileManager.default.removeItem(atPath: path) }
        }

        /// The pid of the loopviz the pane runs (written by `sh` just before it execs loopviz).
        func waitForPid() throws -> Int32 {
            try #require(ExitPathTests.waitForNumber(at: pid, timeout: 10), "loopviz never started")
        }
    }

    /// Reads an integer from `path` once the file holds one; nil after `timeout` seconds.
    private static func waitForNumber(at path: String, timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.hasSuffix("\n"),
               let number = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return number
            }
            usleep(10_000)
        } while Date() < deadline
        return nil
    }

    /// Whether process `pid` is gone (not even a zombie).
    private static func isGone(_ pid: Int32) -> Bool {
        kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Kills a loopviz a failed run left behind, so it does not spin on after the test.
    private static func reap(_ pid: Int32) {
        if !isGone(pid) { kill(pid, SIGKILL) }
    }

    /// Whether the recording was closed after the loop stopped: its last record says the loop was
    /// stopped, and the end line follows it.
    private static func recordingShowsAStoppedLoop(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
        let lines = text.split(separator: "\n")
        guard let end = lines.last, end.hasPrefix("E "),
              let last = lines.last(where: { $0.hasPrefix("R ") }) else { return false }
        let fields = last.split(separator: " ")
        return fields.count == 8 && fields[2] == "runFinished" && fields[6] == stoppedOutcome
    }

    /// Waits until count's three tasks sleep (each printed "One"): the run is under way.
    private static func waitForTheSleeps(_ tmux: TmuxSession) throws {
        try tmux.waitFor("three sleeping lanes") { screen in
            let sleeping = screen.split(separator: "\n").filter { $0.hasPrefix("count#") && $0.contains("░") }
            return screen.contains("LIVE") && sleeping.count == 3
        }
    }

    /// `loopviz ARGUMENTS` in a pane whose command writes loopviz's pid, then execs it.
    private static func command(_ arguments: String, _ files: Files) -> String {
        TmuxSession.command(arguments, environment: "LANG=C.UTF-8 sh -c 'echo $$ > \(files.pid); exec \"$0\" \"$@\"'")
    }

    // MARK: - The terminal goes away

    @Test func killingTheTmuxServerEndsTheRunAtOnceWithStatus129() throws {
        var slowest = 0.0
        for run in 1...5 {
            let files = Files()
            defer { files.removeAll() }
            // The wrapper shell ignores SIGHUP so that it outlives the pane and can report the status;
            // loopviz inherits SIGHUP ignored and, as the shell is the session leader, gets no SIGHUP
            // from the kernel at all: it must notice the terminal is gone by itself.
            let inner = "echo \\$\\$ > \(files.pid); exec \(Loopviz.path) count --speed 0.1 --record \(files.recording)"
            let wrapper = "sh -c 'trap \"\" HUP; LANG=C.UTF-8 sh -c \"\(inner)\"; echo $? > \(files.status)'"
            let tmux = try TmuxSession(width: 100, height: 30, command: wrapper)
            let pid = try files.waitForPid()
            defer { Self.reap(pid) }
            try Self.waitForTheSleeps(tmux)

            let killed = Date()
            _ = try TmuxSession.spawn(["tmux", "-L", tmux.socket, "kill-server"], readOutput: true)
            let status = Self.waitForNumber(at: files.status, timeout: 5)
            let seconds = Date().timeIntervalSince(killed)
            slowest = max(slowest, seconds)
            #expect(status == 129, "run \(run): status \(status.map(String.init) ?? "none within 5 s")")
            #expect(seconds < Self.promptly, "run \(run): \(seconds) s from the kill to the exit")
            #expect(Self.isGone(pid), "run \(run): loopviz \(pid) is still running")
            #expect(Self.recordingShowsAStoppedLoop(files.recording), "run \(run): no stopped loop at the end of the recording")
        }
        print("hang-up: slowest exit \(String(format: "%.3f", slowest)) s after tmux kill-server")
    }

    // MARK: - Signals and keys

    enum Way: String, CaseIterable, CustomTestStringConvertible {
        /// SIGHUP sent by hand: the terminal is still there, so it is restored, but a hang-up
        /// prints nothing.
        case sighup, sigterm, ctrlC, quit
        var testDescription: String { rawValue }

        /// The status a shell reports for this way out.
        var status: Int32 {
            switch self {
            case .sighup: 129
            case .sigterm: 143
            case .ctrlC: 130
            case .quit: 0
            }
        }

        func leave(_ tmux: TmuxSession, pid: Int32) throws {
            switch self {
            case .sighup: kill(pid, SIGHUP)
            case .sigterm: kill(pid, SIGTERM)
            case .ctrlC: try tmux.send("C-c")
            case .quit: try tmux.send("q")
            }
        }
    }

    @Test(arguments: Way.allCases)
    func leavingMidRunStopsTheLoopAndGivesTheTerminalBack(_ way: Way) throws {
        var slowest = 0.0
        for run in 1...3 {
            let files = Files()
            defer { files.removeAll() }
            let arguments = "count --speed 0.1 --record \(files.recording)"
            let tmux = try TmuxSession(width: 100, height: 30, command: Self.command(arguments, files))
            let pid = try files.waitForPid()
            defer { Self.reap(pid) }
            try Self.waitForTheSleeps(tmux)

            let left = Date()
            try way.leave(tmux, pid: pid)
            let screen = try tmux.waitFor("MODES:", timeout: 5)
            let seconds = Date().timeIntervalSince(left)
            slowest = max(slowest, seconds)
            #expect(screen.contains("EXIT=\(way.status)"), "run \(run)")
            #expect(screen.contains("MODES: icanon echo"), "run \(run)")
            // What the program printed so far (count's "One" ×3) is left in the terminal, except
            // after a hang-up.
            #expect(screen.contains("One") == (way != .sighup), "run \(run)")
            #expect(seconds < Self.promptly, "run \(run): \(seconds) s")
            #expect(!screen.contains("loop thread"), "run \(run): loopviz gave up waiting for its loop")
            #expect(Self.isGone(pid), "run \(run)")
            #expect(Self.recordingShowsAStoppedLoop(files.recording), "run \(run): no stopped loop at the end of the recording")
        }
        print("\(way): slowest exit \(String(format: "%.3f", slowest)) s (until the shell's next line is on screen)")
    }

    @Test func anErrorAtTheEndStillStopsTheLoopFirst() throws {
        let files = Files()
        let folder = files.base + "-out"
        defer {
            files.removeAll()
            try? FileManager.default.removeItem(atPath: folder)
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let schedule = folder + "/schedule.txt"
        let arguments = "count --speed 0.1 --record \(files.recording) --schedule \(schedule)"
        let tmux = try TmuxSession(width: 100, height: 30, command: Self.command(arguments, files))
        let pid = try files.waitForPid()
        defer { Self.reap(pid) }
        try Self.waitForTheSleeps(tmux)
        // The schedule's folder goes away under the run: writing it at the end fails.
        try FileManager.default.removeItem(atPath: folder)
        try tmux.send("q")
        let screen = try tmux.waitFor("MODES:", timeout: 5)
        #expect(screen.contains("EXIT=1"))
        #expect(screen.contains("cannot write \(schedule)"))
        #expect(screen.contains("MODES: icanon echo"))
        #expect(Self.recordingShowsAStoppedLoop(files.recording))
    }

    // MARK: - Step mode

    @Test func quittingWhileTheLoopWaitsAtAStepEndsPromptly() throws {
        var slowest = 0.0
        for run in 1...3 {
            let files = Files()
            defer { files.removeAll() }
            let arguments = "count --step --record \(files.recording)"
            let tmux = try TmuxSession(width: 100, height: 30, command: Self.command(arguments, files))
            let pid = try files.waitForPid()
            defer { Self.reap(pid) }
            try tmux.waitFor("next: t=0.000 step main")
            // Two steps in, the loop thread is blocked at the gate before count#2's slice.
            try tmux.send("s")
            try tmux.waitFor("step 1/1")
            try tmux.send("s")
            try tmux.waitFor("step 2/2")

            let left = Date()
            try tmux.send("q")
            let screen = try tmux.waitFor("MODES:", timeout: 5)
            let seconds = Date().timeIntervalSince(left)
            slowest = max(slowest, seconds)
            #expect(screen.contains("EXIT=0"), "run \(run)")
            #expect(screen.contains("MODES: icanon echo"), "run \(run)")
            #expect(seconds < Self.promptly, "run \(run): \(seconds) s")
            #expect(!screen.contains("loop thread"), "run \(run): loopviz gave up waiting for its loop")
            #expect(Self.isGone(pid), "run \(run)")
            #expect(Self.recordingShowsAStoppedLoop(files.recording), "run \(run): no stopped loop at the end of the recording")
        }
        print("q in step mode: slowest exit \(String(format: "%.3f", slowest)) s")
    }
}
