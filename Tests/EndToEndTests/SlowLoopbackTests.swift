import Foundation
import Testing

/// The echo program on virtual time where loopback delivers late: in a network namespace of its
/// own whose loopback device holds every packet back (a `tbf` qdisc, about 1.5 ms a packet), as
/// a busy machine's softirq thread sometimes does. That qdisc drops packets over 100 bytes (a
/// payload over 34 bytes): the programs run here send only short lines. Without the loop's settling of its own
/// loopback I/O (LoopbackSettling.swift), the handler reads its client's end of stream a pass
/// late, connections are accepted a pass late, and echoes land a pass late; with it, the
/// schedule is CPython's and does not depend on the delay.
@Suite("slow loopback", .enabled(if: SlowLoopback.isAvailable, "needs unshare -n and tc (root, iproute2)"))
struct SlowLoopbackTests {
    @Test func echoMatchesCPythonWhenLoopbackDeliversLate() throws {
        let (result, schedule) = try SlowLoopback.echo([], slow: true)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try Loopviz.fixture("echo.output")))
        #expect(SlowLoopback.kindsAndNames(schedule) == SlowLoopback.kindsAndNames(try Loopviz.fixture("echo.schedule")))
    }

    @Test func theScheduleDoesNotDependOnHowLateLoopbackDelivers() throws {
        // No pauses between the lines: every write happens while other tasks are ready, so the
        // loop's next poll does not wait, and only the settling puts the echo in it.
        let arguments = ["--delay", "0", "--clients", "5", "--messages", "4"]
        let (fast, fastSchedule) = try SlowLoopback.echo(arguments, slow: false)
        let (slow, slowSchedule) = try SlowLoopback.echo(arguments, slow: true)
        #expect(fast.status == 0 && slow.status == 0, "\(fast.stderr)\(slow.stderr)")
        #expect(slow.stdout == fast.stdout)
        #expect(slowSchedule == fastSchedule, "late:\n\(slowSchedule)\nprompt:\n\(fastSchedule)")
        #expect(fastSchedule.split(separator: "\n").count > 100)
    }

    @Test func theLoopbackSettlingSuitePassesWhenLoopbackDeliversLate() throws {
        // This test binary again, in the namespace, running only that suite: its connect, line,
        // half-close and close programs each put their lines on CPython's passes.
        let testBinary = CommandLine.arguments[0]
        let result = try SlowLoopback.runInNamespace(testBinary, ["--testing-library", "swift-testing", "--filter", "LoopbackSettlingTests"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let report = result.stdout + result.stderr
        #expect(report.contains(" tests in 1 suite passed") && !report.contains("with 0 tests"), "\(report)")
    }
}

enum SlowLoopback {
    /// The qdisc: 400 kbit/s with a bucket of 100 bytes, smaller than two packets, so every packet
    /// waits for its tokens. A bigger bucket would let a packet after a pause through at once;
    /// netem, which delays without shaping, is not in this kernel.
    static let qdisc = "tbf rate 400kbit burst 100 latency 200ms"

    static let isAvailable: Bool = {
        guard let result = try? Loopviz.runProcess("/usr/bin/unshare", ["-n", "sh", "-c", "ip link set lo up && tc qdisc add dev lo root \(qdisc)"]) else {
            return false
        }
        return result.status == 0
    }()

    /// `loopviz echo --clock virtual --plain --no-lanes` with `arguments`, in a network namespace
    /// of its own (loopback slowed down when `slow`): its result and the schedule file.
    static func echo(_ arguments: [String], slow: Bool) throws -> (Loopviz.Result, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("loopviz-slow-lo-\(getpid())-\(UUID().uuidString).schedule")
        defer { try? FileManager.default.removeItem(at: file) }
        let command = ["echo", "--clock", "virtual", "--plain", "--no-lanes", "--schedule", file.path] + arguments
        let result = try runInNamespace(Loopviz.path, command, slow: slow)
        return (result, (try? String(contentsOf: file, encoding: .utf8)) ?? "")
    }

    /// Runs `executable arguments` in a network namespace of its own, its loopback up (and
    /// slowed down when `slow`).
    static func runInNamespace(_ executable: String, _ arguments: [String], slow: Bool = true) throws -> Loopviz.Result {
        let setup = "ip link set lo up" + (slow ? " && tc qdisc add dev lo root \(qdisc)" : "")
        return try Loopviz.runProcess("/usr/bin/unshare", ["-n", "sh", "-c", "\(setup) && exec \"$0\" \"$@\"", executable] + arguments)
    }

    static func kindsAndNames(_ schedule: String) -> [String] {
        schedule.split(separator: "\n").map { $0.split(separator: " ").dropFirst().joined(separator: " ") }
    }
}
