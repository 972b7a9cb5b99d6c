import Foundation

/// The design's ceiling for the ping workload: the least a single-thread `TaskExecutor` loop can
/// do — a ready queue of jobs and a continuation-based yield, no timers, no trace, no table of
/// tasks. What loopviz's loop costs on top of it is what its features cost.
///
/// `@unchecked Sendable`: the runtime hands it jobs on the one thread that runs it (tasks prefer
/// it as their executor and nothing else enqueues); `ready` and `yielded` are touched only there.
final class MinimalLoop: TaskExecutor, @unchecked Sendable {
    // Unchecked exclusivity, as the loop's own hot fields: with the runtime's access
    // bookkeeping (8 % of its instructions) the ceiling was lower than the design's, and the
    // loop's ratio to it flattered (0.81–0.88×, against 0.70× with both alike).
    @exclusivity(unchecked) private var ready: [UnownedJob] = []
    @exclusivity(unchecked) private var yielded: [UnsafeContinuation<Void, Never>] = []

    func enqueue(_ job: consuming ExecutorJob) {
        ready.append(UnownedJob(job))
    }

    /// Suspends the current task until the next pass (asyncio's `sleep(0)`).
    func yield() async {
        await withUnsafeContinuation { yielded.append($0) }
    }

    /// `tasks` tasks, each yielding `yields` times. Returns switches per second.
    func ping(tasks: Int, yields: Int) -> Double {
        let start = Stopwatch()
        var handles: [Task<Void, Never>] = []
        for _ in 0..<tasks {
            handles.append(Task(executorPreference: self) { [self] in
                for _ in 0..<yields { await yield() }
            })
        }
        while !ready.isEmpty || !yielded.isEmpty {
            let jobs = ready
            ready.removeAll(keepingCapacity: true)
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            let resumed = yielded
            yielded.removeAll(keepingCapacity: true)
            for continuation in resumed { continuation.resume() }  // enqueues each task's job
        }
        _ = handles
        return Double(tasks * yields) / start.seconds
    }
}
