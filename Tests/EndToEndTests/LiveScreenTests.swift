import Foundation
import Testing

/// The live screen in a real terminal (tmux): lanes, step-through both ways, resizing, and the
/// terminal given back intact on every way out.
@Suite("live screen in tmux", .serialized)
struct LiveScreenTests {
    @Test func stepModeWalksOneStepPerKeyBothWaysThenRunsOnAndQuitsCleanly() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("count --step"))
        var screen = try tmux.waitFor("next: t=0.000 step main")
        #expect(screen.contains("STEP"))
        #expect(screen.contains("main"))
        #expect(stepCounter(screen) == "step 0/0")

        // Each key runs exactly one scheduling step of the real loop.
        screen = try stepCountOneKeyAtATime(tmux)

        // Back through the history, then forward again to the live edge.
        try tmux.send("b")
        screen = try tmux.waitFor("step 3/4")
        #expect(screen.contains("step count#2"))
        try tmux.send("Left")
        try tmux.waitFor("step 2/4")
        try tmux.send("Right")
        try tmux.waitFor("step 3/4")
        try tmux.send("s")
        try tmux.waitFor("step 4/4")

        // Run on: the rest of the program finishes and the final picture stays.
        try tmux.send("c")
        screen = try tmux.waitFor("finished (ok)")
        #expect(screen.contains("FINISHED"))
        #expect(screen.split(separator: "\n").filter { $0.hasPrefix("count#") && $0.contains("✓") }.count == 3)

        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("MODES: icanon echo"))
        // The program's output is left in the terminal, as python3 count.py would leave it.
        #expect(screen.components(separatedBy: "One").count - 1 == 3)
    }

    @Test func liveRunDrawsLanesAndSurvivesResizingDownToTwentyBySix() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("count --speed 0.2"))
        var screen = try tmux.waitFor("LIVE")
        screen = try tmux.waitFor("three sleeping lanes") { screen in
            screen.split(separator: "\n").filter { $0.hasPrefix("count#") && $0.contains("░") }.count == 3
        }
        try tmux.resize(width: 40, height: 12)
        screen = try tmux.waitFor("a 40-column redraw") { screen in
            let lines = screen.split(separator: "\n")
            return lines.count <= 12 && lines.first?.contains("loopviz count") == true
                && lines.allSatisfy { $0.count <= 40 } && lines.contains { $0.hasPrefix("count#3") }
        }
        try tmux.resize(width: 20, height: 6)
        screen = try tmux.waitFor("a 20×6 redraw") { screen in
            let lines = screen.split(separator: "\n", omittingEmptySubsequences: false)
            return screen.contains("loopviz") && lines.allSatisfy { $0.count <= 20 }
        }
        try tmux.resize(width: 100, height: 30)
        screen = try tmux.waitFor("finished (ok)", timeout: 15)
        #expect(screen.contains("count#1"))
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("MODES: icanon echo"))
    }

    @Test func blockingShowsTheSlowStepTheLateTickersAndTheTaskPanel() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("blocking"))
        var screen = try tmux.waitFor("finished (ok)")
        let lanes = screen.split(separator: "\n").map(String.init)
        let blocker = try #require(lanes.first { $0.hasPrefix("blocker#1") })
        #expect(blocker.contains("▲"))  // the slow-step flag on the blocker's lane
        #expect(blocker.contains("██████████"))  // its 500 ms slice
        // The tickers' timers came due during the block: ready (▒), not sleeping, until it ended.
        for ticker in lanes.filter({ $0.hasPrefix("ticker#") }) { #expect(ticker.contains("▒▒▒▒▒▒▒▒")) }
        // Real clock: 500 ms, or a little more on a loaded machine.
        #expect(screen.contains("blocker#1 held the loop 5") && screen.contains(" ms — every other task waited"))

        // Select the blocker's lane (main, ticker#1, ticker#2, blocker#1) and open its figures.
        try tmux.send("j", "j", "j", "i")
        // Real clock again: its 500 ms block and a little more (500-599 ms), not an exact figure.
        screen = try tmux.waitFor("the task panel") { $0.contains(/steps 2   running 5\d\d\.\d+ ms/) && $0.contains("woken by: timer ×1") }
        #expect(screen.contains("suspended: sleep 1"))
        try tmux.send("j")  // no lane below: the panel stays on the blocker
        try tmux.send("k")
        screen = try tmux.waitFor("ticker#2's figures") { $0.contains("  ticker#2") && $0.contains("steps 5") }
        #expect(screen.contains("latency p50"))
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
    }

    @Test func ctrlCAndSIGTERMRestoreTheTerminal() throws {
        let tmux = try TmuxSession(width: 80, height: 24, command: TmuxSession.command("event --speed 0.1"))
        try tmux.waitFor("LIVE")
        try tmux.send("C-c")
        var screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=130"))
        #expect(screen.contains("MODES: icanon echo"))

        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-\(UUID().uuidString).pid")
        defer { try? FileManager.default.removeItem(at: pidFile) }
        let second = try TmuxSession(width: 80, height: 24,
                                     command: TmuxSession.command("event --speed 0.1", environment: "LANG=C.UTF-8 sh -c 'echo $$ > \(pidFile.path); exec \"$0\" \"$@\"'"))
        try second.waitFor("LIVE")
        let pid = try #require(Int32(String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        screen = try second.waitFor("MODES:")
        #expect(screen.contains("EXIT=143"))
        #expect(screen.contains("MODES: icanon echo"))
    }

    @Test func echoShowsTasksWaitingOnSocketsAndWokenByIO() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("echo --step"))
        try tmux.waitFor("next: t=0.000 step main")
        // Walk until the loop is about to handle a socket: a step of its own, in words.
        var screen = ""
        for _ in 0..<12 {
            try tmux.send("s")
            usleep(80_000)
            screen = try tmux.capture()
            if screen.contains("ready for I/O") { break }
        }
        #expect(screen.contains("next: t=0.00") && screen.contains("handle fd ") && screen.contains("ready for I/O"))
        // Run on: the handlers' lanes wait on I/O (≈) and are woken by it (↯).
        try tmux.send("c")
        screen = try tmux.waitFor("finished (ok)")
        let handlers = screen.split(separator: "\n").filter { $0.hasPrefix("handle#") }
        #expect(handlers.count == 3)
        #expect(handlers.allSatisfy { $0.contains("≈") && $0.contains("↯") && $0.contains("✓") })
        #expect(screen.contains("server closed"))
        // The help names the I/O glyphs.
        try tmux.send("?")
        screen = try tmux.waitFor("waiting on I/O")
        #expect(screen.contains("woken by I/O"))
        try tmux.send("?")
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
    }

    @Test(arguments: [(140, 40), (20, 6)])
    func theFirstFrameFillsTheTerminalItStartsIn(width: Int, height: Int) throws {
        // Before the fix, ncurses drew terminfo's 80×24 until the first resize: a 140-column
        // ruler stopped at 80, and a 20×6 terminal got 80-column lines wrapped over the lanes.
        let tmux = try TmuxSession(width: width, height: height, command: TmuxSession.command("count --speed 0.2"))
        let screen = try tmux.waitFor("the first frame") { $0.contains("loopviz") && $0.contains("┬") }
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0].hasPrefix(" loopviz count"))
        let ruler = try #require(lines.first { $0.contains("┬") })
        #expect(ruler.count == width, "ruler: \(ruler)")
        #expect(lines.allSatisfy { $0.count <= width })
        try tmux.send("q")
        try tmux.waitFor("MODES:")
    }

    @Test func withStdinNotATerminalKeysComeFromTheTerminal() throws {
        // `loopviz count < /dev/null` (or from a script): before, ncurses read keys from
        // /dev/null, so q never arrived and the screen spun a core waiting for it.
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("count --step < /dev/null"))
        try tmux.waitFor("next: t=0.000 step main")
        try tmux.send("s")
        try tmux.waitFor("step 1/1")
        try tmux.send("q")
        let screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("MODES: icanon echo"))
    }

    @Test func withNoTerminalAtAllToReadKeysFromTheOutputIsPlain() throws {
        // stdout is still the terminal, but stdin is /dev/null and setsid leaves the program
        // with no controlling terminal: nobody could press q, so the live screen must not start.
        let tmux = try TmuxSession(width: 100, height: 30,
                                   command: TmuxSession.command("count --clock virtual --no-lanes < /dev/null", environment: "LANG=C.UTF-8 setsid -w"))
        let screen = try tmux.waitFor("EXIT=", timeout: 5)
        #expect(screen.contains("there is no controlling terminal to read keys from"))
        #expect(screen.contains("plain output"))
        #expect(screen.split(separator: "\n").filter { $0 == "Two" }.count == 3)  // the run ran to its end
        #expect(screen.contains("EXIT=0"))
        #expect(!screen.contains("STEP") && !screen.contains("LIVE"))
    }

    @Test func theLoopStatePanelFollowsTheStepForwardAndBack() throws {
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("lock --step"))
        try tmux.waitFor("next: t=0.000 step main")
        try tmux.send("w")
        var screen = try tmux.waitFor("the loop before its first step")
        for step in 1...4 {
            try tmux.send("s")
            screen = try tmux.waitFor("the loop after step \(step)")
        }
        // worker#1 took the lock and sleeps; worker#2 and worker#3 wait on it; nothing else can
        // run: the loop's next step is worker#1's timer, and time stands still until it is asked for.
        #expect(screen.contains("Lock#1 held by worker#1; waiting: worker#2, worker#3"))
        #expect(screen.contains("next: t=0.500 timer sleep → worker#1 ready"))
        #expect(screen.contains("next: sleep until t=0.500, then: fire worker#1's sleep timer (due)"))
        #expect(screen.contains("+0.500s  t=0.500  wakes worker#1 (sleep)"))
        let live = Self.panel(screen)
        // Past the sleep and back: step 4 from the history reads as it did live (before, the
        // replay ran on past the sleep, and the timer showed as due at t=0 with no sleep).
        try tmux.send("s")
        try tmux.waitFor("the loop after step 5")
        try tmux.send("b")
        screen = try tmux.waitFor("the loop after step 4")
        #expect(Self.panel(screen) == live, "live:\n\(live.joined(separator: "\n"))\nstepped back:\n\(screen)")
        // Back one more step: the panel shows the loop as it was then, before worker#3 waited.
        try tmux.send("b")
        screen = try tmux.waitFor("the loop after step 3")
        #expect(screen.contains("Lock#1 held by worker#1; waiting: worker#2"))
        #expect(!screen.contains("waiting: worker#2, worker#3"))
        #expect(screen.contains("next: run worker#3"))
        #expect(screen.contains("+0.500s  t=0.500  wakes worker#1 (sleep)"))
        try tmux.send("w")
        try tmux.waitFor("── output")
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
    }

    /// The loop-state panel's lines on `screen`: below its title, above the status line.
    static func panel(_ screen: String) -> [String] {
        let lines = screen.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let title = lines.firstIndex(where: { $0.contains("the loop after step") }) else { return [] }
        return Array(lines[(title + 1)...].prefix { !$0.hasPrefix(" step ") })
    }
}
