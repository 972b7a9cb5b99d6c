import Foundation
import Testing

/// `loopviz python SCRIPT.py`: real CPython programs, the same pictures as loopviz's own loop,
/// and every bad program a user may hand it.
@Suite("loopviz python")
struct PythonCommandTests {
    static let references = ["count", "event", "lock", "semaphore", "queue", "timeout", "blocking", "echo"]

    static func script(_ name: String) -> String {
        Loopviz.packageRoot.appendingPathComponent("Tests/Fixtures/python/\(name).py").path
    }

    // MARK: - Parity

    /// The step-order picture (lanes, states, markers, wake-up connectors), the wake-ups and the
    /// printed lines of CPython running NAME.py equal those of loopviz's loop running `loopviz NAME`.
    /// Ours runs on the virtual clock: the order it gives is the one real time gives on an idle
    /// machine. On a loaded one CPython itself can print another order (two timers a few µs
    /// apart fire in one pass when the loop wakes late); such a run of the oracle is not judged:
    /// it is run again, up to three times, until CPython prints what it prints on an idle machine.
    @Test(arguments: references)
    func cpythonDrawsTheSamePictureAsLoopvizsOwnLoop(name: String) throws {
        let ours = try Loopviz.run([name, "--plain", "--clock", "virtual", "--width", "160"])
        let idleOutput = (try Loopviz.fixture("\(name).output")).split(separator: "\n").map(String.init)
        var theirs = try Loopviz.run(["python", Self.script(name), "--plain", "--width", "160"])
        for _ in 1..<3 where Self.output(theirs.stdout) != idleOutput {
            theirs = try Loopviz.run(["python", Self.script(name), "--plain", "--width", "160"])
        }
        #expect(ours.status == 0)
        #expect(theirs.status == 0, "\(theirs.stderr)")
        let stepRows = Self.stepOrderRows(ours.stdout)
        #expect(stepRows.count >= 2)
        #expect(Self.stepOrderRows(theirs.stdout) == stepRows)
        #expect(Self.wakeUps(theirs.stdout) == Self.wakeUps(ours.stdout))
        #expect(Self.output(theirs.stdout) == Self.output(ours.stdout))
        #expect(Self.output(theirs.stdout) == idleOutput)
    }

    /// The lane rows under the `axis: steps` header, up to the blank line.
    static func stepOrderRows(_ text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The step-order ruler: `step    ┬1───…` (the header above it may be cut at the width).
        guard let ruler = lines.firstIndex(where: { $0.hasPrefix("step ") && $0.contains("┬1") }) else { return [] }
        return Array(lines[(ruler + 1)...].prefix { !$0.isEmpty })
    }

    /// The wake-up list without times, and with socket numbers (they differ between processes) blanked.
    static func wakeUps(_ text: String) -> [String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "wake-ups:") else { return [] }
        return lines[(start + 1)...].prefix { !$0.isEmpty }.map { line in
            let words = line.split(separator: " ").dropFirst().joined(separator: " ")
            return words.replacingOccurrences(of: #"fd \d+"#, with: "fd N", options: .regularExpression)
        }
    }

    /// What the program printed: everything before the first picture.
    static func output(_ text: String) -> [String] {
        Array(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).prefix { !$0.isEmpty })
    }

    // MARK: - Bad input and bad programs

    @Test func aMissingScriptIsOneLineAndStatus66() throws {
        let result = try Loopviz.run(["python", "/nonexistent/app.py"])
        #expect(result.status == 66)
        #expect(result.stderr == "loopviz: no such script: /nonexistent/app.py\n")
    }

    @Test func noScriptAtAllIsAUsageError() throws {
        let result = try Loopviz.run(["python"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("name the Python script to run"))
    }

    @Test func aMissingInterpreterIsNamed() throws {
        let result = try Loopviz.run(["python", "--python", "/nonexistent/python3", Self.script("count"), "--plain"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot run /nonexistent/python3: not found"))
    }

    @Test func aSyntaxErrorIsPythonsOwnMessageWithoutLoopvizsFrames() throws {
        let result = try Loopviz.run(["python", Self.script("bad_syntax"), "--plain"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("SyntaxError"))
        #expect(result.stderr.contains("bad_syntax.py\", line 3"))
        #expect(!result.stderr.contains("loopviz_trace"))
        #expect(!result.stderr.contains("runpy"))
    }

    @Test func anEscapedExceptionFailsItsLanesAndPrintsTheTraceback() throws {
        let result = try Loopviz.run(["python", Self.script("bad_exception"), "--plain"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("ZeroDivisionError: division by zero"))
        #expect(result.stderr.contains("in worker"))
        #expect(!result.stderr.contains("loopviz_trace"), "the module's own frames are left out of the traceback")
        let rows = Self.stepOrderRows(result.stdout)
        #expect(rows.contains { $0.hasPrefix("worker#1") && $0.hasSuffix("✗") })
        #expect(rows.contains { $0.hasPrefix("main") && $0.hasSuffix("✗") })
    }

    /// `call_soon(task.cancel)` and `call_soon_threadsafe(task.cancel)` schedule a method of a task
    /// that is not its step: the module's per-task step handle must not take it (that lost the
    /// task's real step and hung the program).
    @Test func aTaskCancelledThroughCallSoonIsCancelledAndTheProgramEnds() throws {
        let result = try Loopviz.run(["python", Self.script("cancel_callbacks"), "--plain"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.output(result.stdout) == ["w 0", "cancelled", "cancelled", "done"])
        let rows = Self.stepOrderRows(result.stdout)
        #expect(rows.filter { $0.hasPrefix("w#") && $0.contains("⊘") }.count == 2)
    }

    @Test func aProgramWithoutALoopRunsAndLoopvizSaysSo() throws {
        let result = try Loopviz.run(["python", Self.script("bad_no_loop"), "--plain"])
        #expect(result.status == 0)
        #expect(result.stdout == "no asyncio here\n")
        #expect(result.stderr.contains("never started an asyncio event loop"))
    }

    @Test func anotherEventLoopIsRefusedInOneLine() throws {
        let result = try Loopviz.run(["python", Self.script("bad_other_loop"), "--plain"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("loopviz shows only asyncio's standard event loop"))
        #expect(!result.stdout.contains("on another loop"))
    }

    @Test(.enabled(if: PythonCommandTests.hasUvloop()))
    func uvloopIsRefusedInOneLine() throws {
        let folder = NSTemporaryDirectory() + "loopviz-uvloop-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/fast.py"
        try "import asyncio, uvloop\nasync def main():\n    print('fast')\nuvloop.install()\nasyncio.run(main())\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Loopviz.run(["python", path, "--plain"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("uvloop"))
    }

    static func hasUvloop() -> Bool {
        (try? Loopviz.runProcess("/usr/bin/env", ["python3", "-c", "import uvloop"]))?.status == 0
    }

    @Test func theProgramsExitStatusIsLoopvizs() throws {
        let result = try Loopviz.run(["python", Self.script("bad_exit"), "--plain"])
        #expect(result.status == 3)
        #expect(result.stdout.hasPrefix("leaving with 3\n"))
    }

    @Test func aChattyProgramLosesNoLine() throws {
        let result = try Loopviz.run(["python", Self.script("bad_chatty"), "--plain", "--no-lanes"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 20_000)
        #expect(lines.last == "line 19999")
    }

    @Test func withPlainTheProgramReadsLoopvizsStdin() throws {
        let result = try Loopviz.runProcess("/bin/sh", ["-c", "echo hello | \(Loopviz.path) python \(Self.script("bad_stdin")) --plain --no-lanes"])
        #expect(result.status == 0)
        #expect(result.stdout == "read: hello\n")
    }

    @Test func theScriptGetsItsOwnArgumentsAndLoopvizKeepsItsOptions() throws {
        let folder = NSTemporaryDirectory() + "loopviz-args-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/args.py"
        try "import asyncio, sys\nasync def main():\n    print(sys.argv[1:])\nasyncio.run(main())\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Loopviz.run(["python", path, "one", "--verbose", "--plain", "--no-lanes", "--", "--plain"])
        #expect(result.status == 0)
        #expect(result.stdout == "['one', '--verbose', '--plain']\n")
    }

    @Test func recordingScheduleAndChromeTraceAreWritten() throws {
        let folder = NSTemporaryDirectory() + "loopviz-pyfiles-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Loopviz.run(["python", Self.script("count"), "--plain", "--no-lanes", "--record", folder + "/count.rec",
                                      "--schedule", folder + "/count.schedule", "--chrome-trace", folder + "/count.json"])
        #expect(result.status == 0)
        // The schedule is asyncio_trace.py's: the same kinds and names as the CPython fixture.
        let schedule = try String(contentsOfFile: folder + "/count.schedule", encoding: .utf8)
        let fixture = try Loopviz.fixture("count.schedule")
        let shape = { (text: String) in text.split(separator: "\n").map { $0.split(separator: " ").dropFirst().joined(separator: " ") } }
        #expect(shape(schedule) == shape(fixture))
        // The recording replays to the same step-order picture.
        let replay = try Loopviz.run(["replay", folder + "/count.rec", "--plain", "--width", "160"])
        let live = try Loopviz.run(["count", "--plain", "--clock", "virtual", "--width", "160"])
        #expect(Self.stepOrderRows(replay.stdout) == Self.stepOrderRows(live.stdout))
        let chrome = try Data(contentsOf: URL(fileURLWithPath: folder + "/count.json"))
        #expect((try JSONSerialization.jsonObject(with: chrome)) is [String: Any])
    }

    /// loopviz killed outright (SIGKILL, no clean-up): its Python child notices its socket close
    /// and ends too.
    @Test func thePythonProcessNeverOutlivesLoopviz() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Loopviz.path)
        process.arguments = ["python", Self.script("bad_forever"), "--plain"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        var child: Int32?
        for _ in 0..<100 where child == nil {
            usleep(50_000)
            child = Self.childPID(of: process.processIdentifier)
        }
        let python = try #require(child, "no Python child appeared")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        var gone = false
        for _ in 0..<100 where !gone {
            usleep(20_000)
            gone = kill(python, 0) != 0 || Self.isZombie(python)
        }
        #expect(gone, "python \(python) outlived loopviz")
        if !gone { kill(python, SIGKILL) }
    }

    static func childPID(of parent: Int32) -> Int32? {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return nil }
        for entry in entries {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, Int32(fields[1]) == parent { return pid }
        }
        return nil
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return true
        }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
