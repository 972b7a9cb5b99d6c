import Foundation

/// `loopviz bench`: every workload, in one process, one after another.
public enum Bench {
    /// The parts of the bench, as `--only` names them; each is a block of the table.
    public enum Section: String, CaseIterable, Sendable {
        /// Ping on loopviz (fresh processes), the minimal loop, CPython and uvloop, and CPython
        /// under `loopviz python`.
        case ping
        /// Timers and event fan-out.
        case loop
        case ring
        /// Frames and the viewer's history.
        case screen
        /// Memory per sleeping task and spawn + gather (see ``TaskCost``), ours and CPython's.
        case tasks
        /// The echo servers against the epoll client (see ``EchoBench``).
        case echo

        /// The section a JSON key belongs to (by its prefix); nil for what every run reports.
        init?(key: String) {
            let prefixes: [(String, Section)] = [
                ("memory_per_sleeping_task", .tasks), ("asyncio_memory_", .tasks), ("uvloop_memory_", .tasks),
                ("spawn_gather", .tasks), ("asyncio_spawn_", .tasks), ("uvloop_spawn_", .tasks), ("task_cost_", .tasks),
                ("ping_", .ping), ("asyncio_", .ping), ("uvloop_", .ping), ("python_", .ping), ("tracing_", .ping),
                ("timer_", .loop), ("event_", .loop), ("ring_", .ring), ("frame_", .screen), ("history_", .screen),
                ("echo_", .echo),
            ]
            guard let section = prefixes.first(where: { key.hasPrefix($0.0) })?.1 else { return nil }
            self = section
        }
    }

    public struct Options: Sendable {
        public var quick = false
        /// The parts to run (`--only`); the others are left out of the table and null in the JSON.
        public var sections = Set(Section.allCases)
        /// Run this asyncio_ping.py instead of the built-in copy of its workload.
        public var pythonScript: String?
        /// Run only the ping workload this many times (for a profiler), nothing else.
        public var profilePingRounds = 0
        /// With `profilePingRounds`: trace it (records through the ring to a reader thread).
        public var profileTraced = false
        /// This loopviz, to measure ping and task costs in fresh processes; nil: in this process.
        public var executable: String?
        public init() {}
    }

    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) throws -> BenchReport {
        var report = BenchReport()
        report.quick = options.quick
        let (tasks, yields) = options.quick ? (100, 50) : (1000, 200)
        report.pingTasks = tasks
        report.pingYields = yields
        if options.profilePingRounds > 0 {
            for _ in 0..<options.profilePingRounds {
                let rate = try LoopBenchmarks.ping(tasks: tasks, yields: yields, traced: options.profileTraced).switchesPerSecond
                if options.profileTraced { report.pingTracedSwitchesPerSecond = rate } else { report.pingUntracedSwitchesPerSecond = rate }
            }
            return report
        }

        report.sections = options.sections
        if options.sections.contains(.ping) { try runPing(options, into: &report, progress: progress) }
        if options.sections.contains(.tasks) { try measureTaskCosts(options, into: &report, progress: progress) }
        if options.sections.contains(.loop) {
            progress("timers")
            report.timerOpsPerSecond = try LoopBenchmarks.timers(count: options.quick ? 5_000 : 100_000)
            progress("event fan-out")
            report.eventFanoutWakesPerSecond = try LoopBenchmarks.eventFanout(waiters: options.quick ? 1_000 : 10_000)
        }
        if options.sections.contains(.ring) {
            progress("ring")
            report.ringNanosecondsPerEvent = TraceBenchmarks.pushCost(records: options.quick ? 1 << 18 : 1 << 24)
            report.ringCrossThreadEventsPerSecond = TraceBenchmarks.crossThread(records: options.quick ? 1 << 18 : 1 << 24)
        }
        if options.sections.contains(.screen) {
            progress("frames")
            // 1,000 tasks × 4,550 yields ≈ 10,000,000 records (two per yield, more around each
            // sleep): the history issue 13 states the frame target at.
            let screen = try ScreenBenchmarks.frames(tasks: options.quick ? 100 : 1000, yields: options.quick ? 100 : 4550,
                                                     frames: options.quick ? 20 : 200)
            report.frameMillisecondsP50 = screen.frameP50
            report.frameMillisecondsP99 = screen.frameP99
            report.historyBytesPerEvent = screen.bytesPerEvent
            report.historyEvents = screen.events
            report.historyApplyNanosecondsPerEvent = screen.applyNanosecondsPerEvent
        }
        // Last: it pins this thread to one core while it runs (and restores it after).
        if options.sections.contains(.echo), let executable = options.executable {
            report.echo = try EchoBench.measure(.init(executable: executable, quick: options.quick), progress: progress)
        }

        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        report.peakRSSMegabytes = Double(usage.ru_maxrss) / 1024  // ru_maxrss is in KiB on Linux
        return report
    }

    /// Ping on loopviz's loop, the minimal loop, CPython asyncio and uvloop, and CPython under
    /// `loopviz python`.
    private static func runPing(_ options: Options, into report: inout BenchReport, progress: (String) -> Void) throws {
        let (tasks, yields) = (report.pingTasks, report.pingYields)
        progress("ping: untraced, traced and the minimal loop, each in a fresh process")
        // Enough rounds that the median of the neighbours' ratios is steady on a noisy VM; a
        // round of three loopviz processes takes about half a second.
        let rounds = options.quick ? 1 : 15
        if let executable = options.executable {
            // Alternating, each measurement a process of its own (see FreshProcessPing).
            let (figures, perRound) = FreshProcessPing.measure(executable: executable, quick: options.quick, rounds: rounds)
            report.pingOverheadRounds = FreshProcessPing.paired(perRound) { round in
                guard let traced = round[.traced], let untraced = round[.untraced], untraced > 0 else { return nil }
                return 100 * (1 - traced / untraced)
            }
            report.pingVersusCeilingRounds = FreshProcessPing.paired(perRound) { round in
                guard let traced = round[.traced], let ceiling = round[.ceiling], ceiling > 0 else { return nil }
                return traced / ceiling
            }
            report.pingUntraced = figures[.untraced]?.figure
            report.pingTraced = figures[.traced]?.figure
            report.pingCeiling = figures[.ceiling]?.figure
            report.pingTracedDropped = figures[.traced]?.dropped ?? 0
            report.freshProcesses = true
        } else {
            var untraced: [Double] = [], traced: [Double] = [], ceiling: [Double] = []
            for _ in 0..<rounds {
                untraced.append(try LoopBenchmarks.ping(tasks: tasks, yields: yields, traced: false).switchesPerSecond)
                let run = try LoopBenchmarks.ping(tasks: tasks, yields: yields, traced: true)
                traced.append(run.switchesPerSecond)
                report.pingTracedDropped += run.dropped
                ceiling.append(MinimalLoop().ping(tasks: tasks, yields: yields))
            }
            report.pingUntraced = .init(untraced)
            report.pingTraced = .init(traced)
            report.pingCeiling = .init(ceiling)
        }
        report.pingUntracedSwitchesPerSecond = report.pingUntraced?.median ?? 0
        report.pingTracedSwitchesPerSecond = report.pingTraced?.median ?? 0
        report.pingRounds = rounds
        progress("ping on CPython asyncio / uvloop")
        let python = PythonReference.measure(tasks: tasks, yields: yields, scriptPath: options.pythonScript)
        report.asyncioSwitchesPerSecond = python.asyncio
        report.uvloopSwitchesPerSecond = python.uvloop
        if let executable = options.executable {
            progress("ping on CPython asyncio, bare and under loopviz python")
            // As many rounds as ping's: the figure is a ratio of two noisy runs.
            let pythonRounds = options.quick ? 1 : 15
            if let figures = PythonReference.measureInstrumented(executable: executable, tasks: tasks, yields: yields,
                                                                 rounds: pythonRounds) {
                report.pythonBare = figures.bare
                report.pythonInstrumented = figures.instrumented
                report.pythonSlowdownRounds = figures.slowdown
                report.pythonRounds = pythonRounds
            }
        }
    }

    /// Memory per sleeping task and spawn + gather, ours in fresh processes, then CPython's.
    private static func measureTaskCosts(_ options: Options, into report: inout BenchReport, progress: (String) -> Void) throws {
        let tasks = TaskCost.taskCount(quick: options.quick)
        let rounds = options.quick ? 1 : 3
        report.taskCostTasks = tasks
        report.taskCostRounds = rounds
        progress("tasks: memory per sleeping task and spawn + gather, each in a fresh process")
        let figures = try TaskCost.measure(executable: options.executable, quick: options.quick, rounds: rounds)
        report.memoryPerSleepingTask = figures.memoryResident
        report.heapPerSleepingTask = figures.memoryHeap
        report.spawnGather = figures.spawnGather
        progress("tasks on CPython asyncio / uvloop")
        // Memory barely moves between runs: one process each is enough.
        report.asyncioMemoryPerSleepingTask = PythonReference.taskCost(.memory, loop: "asyncio", tasks: tasks, rounds: 1)
        report.uvloopMemoryPerSleepingTask = PythonReference.taskCost(.memory, loop: "uvloop", tasks: tasks, rounds: 1)
        report.asyncioSpawnGather = PythonReference.taskCost(.spawnGather, loop: "asyncio", tasks: tasks, rounds: rounds)
        report.uvloopSpawnGather = PythonReference.taskCost(.spawnGather, loop: "uvloop", tasks: tasks, rounds: rounds)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
