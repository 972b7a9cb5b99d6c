import ArgumentParser
import Benchmarks
import Foundation
import Visualizer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the loop, the trace ring and the screen against CPython asyncio (and uvloop).",
        discussion: """
            Build in release mode first (swift build -c release; .build/release/loopviz bench): \
            debug numbers mean nothing. python3 runs the asyncio reference in the same invocation; \
            pip install uvloop to compare with uvloop too.
            """
    )

    @Flag(help: "Shrink every workload so the whole bench takes seconds (for tests; figures are rough).")
    var quick = false

    @Flag(help: "Print one JSON object instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Run this asyncio_ping.py instead of the built-in copy of its workload.", valueName: "FILE"))
    var pythonScript: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Run only the ping workload N times, for a profiler (perf record, callgrind).", valueName: "N"))
    var profilePing = 0

    @Flag(help: "With --profile-ping: trace the workload, as the live UI does.")
    var traced = false

    func validate() throws {
        guard (0...10_000).contains(profilePing) else { throw ValidationError("--profile-ping must be between 0 and 10000") }
        if let pythonScript, !FileManager.default.fileExists(atPath: pythonScript) {
            throw ValidationError("--python-script: no such file: \(pythonScript)")
        }
    }

    func run() throws {
        var options = Bench.Options()
        options.quick = quick
        options.pythonScript = pythonScript
        options.profilePingRounds = profilePing
        options.profileTraced = traced
        let report = try Bench.run(options) { step in
            if !json { StandardStream.error.write("bench: \(step)…\n") }
        }
        print(json ? report.json : report.table)
    }
}
