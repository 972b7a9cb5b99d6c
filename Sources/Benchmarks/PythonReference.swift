import Foundation

/// CPython's asyncio (and uvloop, when installed) on the same ping workload, run in the same
/// invocation so that ratios compare one moment on one machine.
enum PythonReference {
    /// The workload of `asyncio_ping.py`, verbatim, so the bench needs no file beside it.
    static let script = """
        import asyncio, sys, time

        def run(policy_name, n, k):
            async def worker():
                for _ in range(k):
                    await asyncio.sleep(0)
            async def main():
                await asyncio.gather(*(worker() for _ in range(n)))
            if policy_name == "uvloop":
                import uvloop
                runner = lambda coro: uvloop.run(coro)
            else:
                runner = asyncio.run
            t0 = time.perf_counter()
            runner(main())
            dt = time.perf_counter() - t0
            return n * k / dt

        if __name__ == "__main__":
            n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
            k = int(sys.argv[2]) if len(sys.argv) > 2 else 200
            names = sys.argv[3].split(",") if len(sys.argv) > 3 else ("asyncio", "uvloop")
            for name in names:
                try:
                    print(f"{name} {run(name, n, k):.0f} switches/s (n={n}, k={k})")
                except ImportError:
                    print(f"{name} not installed")
        """

    /// The task-cost workloads of ``TaskCost`` on asyncio or uvloop: `WORKLOAD LOOP N` prints
    /// `LOOP FIGURE` (bytes per sleeping task, resident; or tasks spawned and gathered per
    /// second). One workload and one loop per process, as ours: pymalloc keeps freed arenas.
    static let taskCostScript = """
        import asyncio, gc, os, sys, time

        def resident():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        async def sleeper():
            await asyncio.sleep(86400)

        async def child():
            pass

        async def memory(n):
            gc.collect()
            before = resident()
            tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
            await asyncio.sleep(0)  # every sleeper has run its first step and sleeps
            await asyncio.sleep(0)  # and the loop has settled, as in loopviz's measurement
            per_task = (resident() - before) / n
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            return per_task

        async def spawn_gather(n):
            t0 = time.perf_counter()
            await asyncio.gather(*[asyncio.create_task(child()) for _ in range(n)])
            return n / (time.perf_counter() - t0)

        workload, loop_name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
        main = memory if workload == "memory" else spawn_gather
        if loop_name == "uvloop":
            import uvloop  # not installed: the exit status says so, and the figure is null
            run = uvloop.run
        else:
            run = asyncio.run
        print(f"{loop_name} {run(main(n)):.1f}")
        """

    /// ``taskCostScript``'s figure for `workload` on `loop` (asyncio or uvloop): the median of
    /// `rounds` processes; nil when python3 or that loop is not there.
    static func taskCost(_ workload: TaskCost.Workload, loop: String, tasks: Int, rounds: Int) -> Double? {
        var figures: [Double] = []
        for _ in 0..<rounds {
            guard let figure = rates(of: "/usr/bin/env", ["python3", "-c", taskCostScript, workload.rawValue, loop, "\(tasks)"])?[loop]
            else { return nil }
            figures.append(figure)
        }
        return FreshProcessPing.Figure(figures).median
    }

    /// CPython's asyncio ping bare and under `loopviz python` (the instrumentation module
    /// streaming every step to a loopviz that ingests it), each run a fresh process, alternating:
    /// the figures with their ranges; nil when python3 or this loopviz cannot run it.
    /// `slowdown`: each round's bare / instrumented. The two runs of a round are neighbours in
    /// time, so their ratio is steadier on a noisy machine than the ratio of the two medians.
    static func measureInstrumented(executable: String, tasks: Int, yields: Int, rounds: Int)
        -> (bare: FreshProcessPing.Figure, instrumented: FreshProcessPing.Figure, slowdown: FreshProcessPing.Figure)? {
        let path = NSTemporaryDirectory() + "loopviz-bench-ping-\(getpid()).py"
        guard (try? script.write(toFile: path, atomically: true, encoding: .utf8)) != nil else { return nil }
        defer { try? FileManager.default.removeItem(atPath: path) }
        let workload = ["\(tasks)", "\(yields)", "asyncio"]
        var bare: [Double] = [], instrumented: [Double] = []
        for _ in 0..<rounds {
            guard let plain = rate(of: "/usr/bin/env", ["python3", path] + workload),
                  let traced = rate(of: executable, ["python", path] + workload + ["--plain", "--no-lanes"])
            else { return nil }
            bare.append(plain)
            instrumented.append(traced)
        }
        return (.init(bare), .init(instrumented), .init(zip(bare, instrumented).map { $0 / $1 }))
    }

    /// The asyncio figure `executable arguments` prints.
    private static func rate(of executable: String, _ arguments: [String]) -> Double? {
        rates(of: executable, arguments)?["asyncio"]
    }

    /// Runs `executable arguments` and reads its `NAME RATE switches/s` lines; nil when it fails.
    private static func rates(of executable: String, _ arguments: [String]) -> [String: Double]? {
        guard let text = ChildOutput.run(executable, arguments) else { return nil }
        var rates: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count >= 2, let value = Double(words[1]) { rates[String(words[0])] = value }
        }
        return rates
    }

    /// Switches per second for asyncio and uvloop; nil for what is not there. `scriptPath`
    /// runs that file instead of the built-in copy.
    static func measure(tasks: Int, yields: Int, scriptPath: String?) -> (asyncio: Double?, uvloop: Double?) {
        let program = scriptPath.map { [$0] } ?? ["-c", script]
        let found = rates(of: "/usr/bin/env", ["python3"] + program + ["\(tasks)", "\(yields)"])
        return (found?["asyncio"], found?["uvloop"])
    }
}
