import ArgumentParser
import Benchmarks
import Foundation
import Loop
import LoopViz
import Visualizer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the loop, the trace ring, the screen and an echo server against CPython asyncio (and uvloop).",
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

    @Option(help: ArgumentHelp("Run only these parts: \(Bench.Section.allCases.map(\.rawValue).joined(separator: ", ")) (repeat it, or separate them with commas).", valueName: "PART"))
    var only: [String] = []

    @Option(help: ArgumentHelp("Run this asyncio_ping.py instead of the built-in copy of its workload.", valueName: "FILE"))
    var pythonScript: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Run only the ping workload N times, for a profiler (perf record, callgrind).", valueName: "N"))
    var profilePing = 0

    @Flag(help: "With --profile-ping: trace the workload, as the live UI does.")
    var traced = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Instead: serve an endless program and watch it with loopviz attach for N seconds, printing both processes' memory each second.", valueName: "SECONDS"))
    var soak = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("With --soak: the viewer's --history.", valueName: "EVENTS"))
    var soakHistory = 500_000

    @Option(help: .hidden) var soakProgram: String?

    /// One ping measurement in this process, for the bench's fresh-process rounds.
    @Option(help: .hidden) var pingOnce: String?

    /// One task-cost measurement in this process, for the bench's fresh-process rounds.
    @Option(help: .hidden) var taskCostOnce: String?

    /// The echo bench's server on the loop (traced or untraced): prints its port, serves until
    /// its stdin ends. With `--echo-cpu`, pinned to that core.
    @Option(help: .hidden) var echoServer: String?
    @Option(help: .hidden) var echoCpu: Int?

    /// `--only`, as sections (empty: all).
    private var sections: Set<Bench.Section> {
        Set(only.flatMap { $0.split(separator: ",") }.compactMap { Bench.Section(rawValue: String($0).trimmingCharacters(in: .whitespaces)) })
    }

    func validate() throws {
        guard (0...10_000).contains(profilePing) else { throw ValidationError("--profile-ping must be between 0 and 10000") }
        guard (0...86_400).contains(soak) else { throw ValidationError("--soak must be between 0 and 86400 seconds") }
        guard soakHistory >= 1000 else { throw ValidationError("--soak-history must be at least 1000") }
        for part in only.flatMap({ $0.split(separator: ",") }) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard Bench.Section(rawValue: name) != nil else {
                throw ValidationError("--only: no part named \"\(name)\" (\(Bench.Section.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if let echoServer, echoServer != "traced" && echoServer != "untraced" {
            throw ValidationError("--echo-server: traced or untraced")
        }
        if let pythonScript, !FileManager.default.fileExists(atPath: pythonScript) {
            throw ValidationError("--python-script: no such file: \(pythonScript)")
        }
    }

    func run() throws {
        if let pingOnce {
            guard let variant = FreshProcessPing.Variant(rawValue: pingOnce) else { throw ValidationError("--ping-once: untraced, traced or ceiling") }
            let (tasks, yields) = quick ? (100, 50) : (1000, 200)
            let (rate, dropped) = try FreshProcessPing.measureHere(variant, tasks: tasks, yields: yields, runs: quick ? 1 : FreshProcessPing.runsPerProcess)
            StandardStream.output.write("\(rate) \(dropped)\n")
            return
        }
        if let taskCostOnce {
            guard let workload = TaskCost.Workload(rawValue: taskCostOnce) else { throw ValidationError("--task-cost-once: memory or spawn-gather") }
            let numbers = try TaskCost.measureHere(workload, tasks: TaskCost.taskCount(quick: quick))
            StandardStream.output.write(numbers.map { String($0) }.joined(separator: " ") + "\n")
            return
        }
        if let echoServer {
            try EchoServerProgram.serve(traced: echoServer == "traced", cpu: echoCpu)
            return
        }
        if let soakProgram {
            // The soak's program: endless, served on the socket, stopped by a signal.
            throw ExitCode(LoopViz.serve(SoakWorkload.program, options: RunOptions(), path: soakProgram))
        }
        if soak > 0 {
            StandardStream.output.write("soak: an endless program served and watched with loopviz attach --history \(soakHistory); resident memory\n")
            StandardStream.output.write(" second  program MB  viewer MB\n")
            let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
            _ = try Soak.run(executable: executable, seconds: soak, viewerHistory: soakHistory) { sample in
                StandardStream.output.write(String(format: "%7d  %10.1f  %9.1f\n", sample.second, sample.programMB, sample.viewerMB))
            }
            return
        }
        var options = Bench.Options()
        options.quick = quick
        if !only.isEmpty { options.sections = sections }
        options.pythonScript = pythonScript
        options.profilePingRounds = profilePing
        options.profileTraced = traced
        // This very binary, wherever PATH found it (argv[0] may be a bare name).
        options.executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let report = try Bench.run(options) { step in
            if !json { StandardStream.error.write("bench: \(step)…\n") }
        }
        print(json ? report.json : report.table)
    }
}

/// The soak's endless program: workers sleeping short, different delays and taking turns on a
/// lock, forever — many records a second, no new names (nothing printed, no new tasks).
enum SoakWorkload {
    static let program = LoopProgram(name: "soak") { loop in
        let lock = Lock(loop: loop)
        let workers = (0..<50).map { index in
            loop.spawn("worker") {
                while true {
                    try await loop.sleep(0.001 * Double(index % 5 + 1))
                    if index % 10 == 0 { try await lock.withLock { try await loop.sleep(0.001) } }
                }
            }
        }
        _ = try await loop.gather(workers)
    }
}
