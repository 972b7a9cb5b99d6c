import Foundation
import Testing

/// `loopviz attach` in a real terminal: a program served in the background is watched, paused,
/// stepped, left and watched again while it runs.
@Suite("attach in tmux", .serialized)
struct AttachScreenTests {
    @Test func attachPauseStepDetachAndAttachAgainWhileTheProgramRuns() throws {
        let folder = NSTemporaryDirectory() + "loopviz-e2e-attach-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let socket = folder + "/lock.sock"
        // The program: three workers holding a lock 2 s each, one after another (6 s), served.
        let program = Process()
        program.executableURL = URL(fileURLWithPath: Loopviz.path)
        program.arguments = ["lock", "--hold", "2", "--serve", socket]
        program.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        program.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try program.run()
        defer { if program.isRunning { program.terminate() } }
        var waited = 0
        while !FileManager.default.fileExists(atPath: socket) && waited < 200 { usleep(20_000); waited += 1 }

        let first = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("attach \(socket)"))
        var screen = try first.waitFor("the three workers") { $0.split(separator: "\n").filter { $0.hasPrefix("worker#") }.count == 3 }
        #expect(screen.contains("loopviz lock │ LIVE"))
        try first.send("Space")
        // Paused: the loop waits before the timer step that makes worker#1 ready. Its deadline is
        // 2 s after worker#1's first step, which on the real clock comes a few milliseconds after
        // the loop starts (1 ms on an idle machine, 6-14 ms on a loaded one): read it off the screen.
        screen = try first.waitFor("the paused timer step") { Self.timerStepTime($0) != nil }
        #expect(screen.contains("PAUSED"))
        let due = try #require(Self.timerStepTime(screen))
        #expect(due.hasPrefix("2.0"), "the timer is worker#1's 2 s hold: t=\(due)")
        // One step: the timer has fired, worker#1 is ready (▒), and its own step comes next, at
        // the same time (the paused clock stands still).
        try first.send("s")
        screen = try first.waitFor("next: t=\(due) step worker#1")
        #expect(screen.split(separator: "\n").first { $0.hasPrefix("worker#1") }?.hasSuffix("▒") == true)
        try first.send("q")
        screen = try first.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(program.isRunning)  // detaching leaves the program running

        // A second viewer while it still runs sees the history and then the end.
        let second = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("attach \(socket)"))
        screen = try second.waitFor("finished (ok)", timeout: 15)
        #expect(screen.contains("FINISHED"))
        #expect(screen.split(separator: "\n").filter { $0.hasPrefix("worker#") && $0.contains("✓") }.count == 3)
        try second.send("q")
        try second.waitFor("MODES:")
        program.waitUntilExit()
        #expect(program.terminationStatus == 0)
    }

    /// The time of the "next: t=… timer sleep → worker#1 ready" line on `screen`, if it shows one.
    static func timerStepTime(_ screen: String) -> String? {
        screen.firstMatch(of: /next: t=(\d+\.\d{3}) timer sleep → worker#1 ready/).map { String($0.1) }
    }

    @Test func attachingToNothingSaysSoInOneLine() throws {
        let result = try Loopviz.run(["attach", "/nonexistent/loopviz.sock"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("/nonexistent/loopviz.sock: no such socket"))
    }

    @Test func aHostileStreamGivesTheViewerAOneLineErrorNotACrash() throws {
        let folder = NSTemporaryDirectory() + "loopviz-e2e-hostile-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/hostile.sock"
        // A fake server: a valid header, then garbage.
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
            raw[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(listener, 1) == 0)
        let fake = Thread {
            let conn = accept(listener, nil, nil)
            let text = Array("loopviz-trace 1\nM {}\nR 1 taskSpawned 99 0 0 0 ready\n\u{0}\u{1}garbage".utf8)
            _ = text.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(200_000)
            close(conn)
        }
        fake.start()
        defer { close(listener) }
        let result = try Loopviz.run(["attach", path, "--plain"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("line 3: refers to #99, which no name line declared"))
        #expect(!result.stderr.contains("Fatal error"))
    }
}
