import Foundation
import Testing

/// `loopviz python` on the live screen: a CPython program stepped forward and back, and a
/// program that never ends left with Ctrl-C.
@Suite("python in tmux", .serialized)
struct PythonScreenTests {
    @Test func aPythonProgramStepsForwardAndBackThenRunsOn() throws {
        let script = PythonCommandTests.script("count")
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("python \(script) --step"))
        var screen = try tmux.waitFor("step main (resume it)")
        #expect(screen.contains("loopviz count.py │ STEP"))
        #expect(stepCounter(screen) == "step 0/0")
        // One key, one step of CPython's loop: main, the three count tasks, a timer.
        screen = try stepCountOneKeyAtATime(tmux)
        try tmux.send("b")
        screen = try tmux.waitFor("step 3/4")
        #expect(screen.contains("step count#2"))
        try tmux.send("Right")
        try tmux.waitFor("step 4/4")
        try tmux.send("c")
        screen = try tmux.waitFor("finished (ok)")
        #expect(screen.split(separator: "\n").filter { $0.hasPrefix("count#") && $0.contains("✓") }.count == 3)
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
        #expect(screen.contains("MODES: icanon echo"))
        #expect(screen.components(separatedBy: "Two").count - 1 == 3)  // its output stays, as python3's would
    }

    @Test func ctrlCEndsAProgramThatNeverEndsAndRestoresTheTerminal() throws {
        let script = PythonCommandTests.script("bad_forever")
        let tmux = try TmuxSession(width: 80, height: 24, command: TmuxSession.command("python \(script)"))
        var screen = try tmux.waitFor("tick 3")
        let pidText = screen.range(of: #"python pid \d+"#, options: .regularExpression).map { screen[$0].split(separator: " ").last! }
        let pid = try #require(pidText.flatMap { Int32($0) })
        try tmux.send("C-c")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=130"))
        #expect(screen.contains("MODES: icanon echo"))
        // The program's process is gone (loopviz waited for it before it exited).
        #expect(kill(pid, 0) != 0 || PythonCommandTests.isZombie(pid), "python \(pid) still runs")
    }
}
