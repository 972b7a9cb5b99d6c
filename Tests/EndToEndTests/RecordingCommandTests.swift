import Foundation
import Testing

/// `--record`, `loopviz replay` and `loopviz export` as a user runs them.
@Suite("recording commands", .serialized)
struct RecordingCommandTests {
    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-\(getpid())-\(UUID().uuidString.prefix(6))-\(name)").path
    }

    @Test func recordReplayAndExportACountRun() throws {
        let recording = temporary("count.lvt"), chrome = temporary("count.json")
        defer { for path in [recording, chrome] { try? FileManager.default.removeItem(atPath: path) } }
        let run = try Loopviz.run(["count", "--plain", "--clock", "virtual", "--record", recording])
        #expect(run.status == 0)
        let replay = try Loopviz.run(["replay", recording, "--plain"])
        #expect(replay.status == 0)
        #expect(replay.stdout.hasPrefix(try Loopviz.fixture("count.output")))
        // The same lanes as the run itself drew.
        func lanes(_ text: String) -> [Substring] { text.split(separator: "\n").filter { $0.hasPrefix("count#") } }
        #expect(lanes(replay.stdout) == lanes(run.stdout))
        let export = try Loopviz.run(["export", recording, "--chrome", chrome])
        #expect(export.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: chrome))) as? [String: Any]
        #expect((object?["traceEvents"] as? [Any])?.isEmpty == false)
    }

    @Test func aRunKilledWithSIGKILLLeavesAReplayablePrefix() throws {
        let recording = temporary("killed.lvt")
        defer { try? FileManager.default.removeItem(atPath: recording) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Loopviz.path)
        process.arguments = ["count", "--plain", "--speed", "0.1", "--record", recording]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until the first slices are on disk, then kill it in the middle of its 10 s sleep.
        let deadline = Date().addingTimeInterval(10)
        while (try? String(contentsOfFile: recording, encoding: .utf8))?.contains("taskSuspended") != true, Date() < deadline {
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let replay = try Loopviz.run(["replay", recording, "--plain"])
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stderr.contains("the recording ends before the run did"))
        #expect(replay.stdout.hasPrefix("One\n"))
        #expect(!replay.stdout.contains("Two"))
    }

    @Test(arguments: [
        ("", "empty file"), ("not a trace\n", "not a loopviz recording"), ("loopviz-trace 9\nM {}\n", "newer loopviz"),
    ])
    func badRecordingsGiveOneLineAndAFailingStatus(content: String, mentions: String) throws {
        let path = temporary("bad.lvt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try content.write(toFile: path, atomically: true, encoding: .utf8)
        for command in [["replay", path, "--plain"], ["export", path, "--chrome", temporary("x.json")]] {
            let result = try Loopviz.run(command)
            #expect(result.status != 0)
            #expect(result.stderr.contains(path) && result.stderr.contains(mentions))
            #expect(result.stderr.split(separator: "\n").count <= 3)  // the error line (and usage hints), no trace dump
        }
        let missing = try Loopviz.run(["replay", temporary("missing.lvt")])
        #expect(missing.status != 0 && missing.stderr.contains("cannot read the file"))
    }

    @Test func replayStepsBothWaysInTheLiveScreen() throws {
        let recording = temporary("event.lvt")
        defer { try? FileManager.default.removeItem(atPath: recording) }
        #expect(try Loopviz.run(["event", "--plain", "--clock", "virtual", "--record", recording]).status == 0)
        let tmux = try TmuxSession(width: 100, height: 30, command: TmuxSession.command("replay \(recording) --step"))
        try tmux.waitFor("step 0/7")
        try tmux.send("s", "s", "s", "s")
        var screen = try tmux.waitFor("step 4/7")
        #expect(screen.contains("set_event"))
        try tmux.send("b")
        screen = try tmux.waitFor("step 3/7")
        try tmux.send("G")
        screen = try tmux.waitFor("finished (ok)")
        #expect(screen.contains("coro2#1"))
        try tmux.send("q")
        screen = try tmux.waitFor("MODES:")
        #expect(screen.contains("EXIT=0"))
    }
}
