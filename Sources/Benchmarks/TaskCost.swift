import CLoopSystem
import Foundation
import Loop

/// What one task costs: the memory a sleeping task holds, and how fast trivial tasks are spawned
/// and gathered. Each measurement runs in a process of its own (`loopviz bench --task-cost-once
/// WORKLOAD`): a heap that earlier workloads left fragmented, or pages malloc kept from them,
/// would hide part of what the tasks take, and a process that has started a second thread has
/// lost glibc's single-thread fast paths (see ``FreshProcessPing``).
public enum TaskCost {
    /// What one fresh process measures.
    public enum Workload: String, Sendable, CaseIterable {
        /// Tasks that each sleep a day: bytes per task once every one of them is suspended.
        case memory
        /// Trivial children spawned and gathered by one parent: tasks per second.
        case spawnGather = "spawn-gather"
    }

    /// The target for memory per sleeping task (issue 13): uvloop holds ~1,591 bytes, asyncio ~1,275.
    public static let memoryTargetBytes = 1_500.0
    /// Spawn + gather before the work on task cost (commit 1fb05b5; median of 3 fresh processes
    /// of 100,000 children on a 2-core AMD EPYC VM, where CPython asyncio did 102,000/s in the same
    /// hour). It was quadratic in the number of children then: at 10,000 it did 80,000/s. The
    /// target is twice this.
    public static let spawnGatherBeforeTasksPerSecond = 7_742.0

    /// Tasks per measurement: enough that page granularity and the loop's fixed costs vanish.
    public static func taskCount(quick: Bool) -> Int { quick ? 10_000 : 100_000 }

    /// One measurement in this process: the numbers `--task-cost-once` prints (memory: RSS and
    /// heap bytes per task; spawn-gather: tasks per second).
    public static func measureHere(_ workload: Workload, tasks: Int) throws -> [Double] {
        switch workload {
        case .memory:
            let bytes = try memoryPerSleepingTask(tasks: tasks)
            return [bytes.resident, bytes.heap]
        case .spawnGather: return [try spawnGather(tasks: tasks)]
        }
    }

    /// The figures of `rounds` alternating fresh processes of `executable` (nil: measured in this
    /// process, rougher).
    public struct Figures: Sendable {
        /// Resident bytes per sleeping task (what the kernel gave the process for them).
        public var memoryResident: FreshProcessPing.Figure?
        /// malloc's bytes in use per sleeping task (without pages malloc keeps for reuse).
        public var memoryHeap: FreshProcessPing.Figure?
        public var spawnGather: FreshProcessPing.Figure?
    }

    public static func measure(executable: String?, quick: Bool, rounds: Int) throws -> Figures {
        var resident: [Double] = [], heap: [Double] = [], rates: [Double] = []
        for _ in 0..<rounds {
            for workload in Workload.allCases {
                let numbers: [Double]?
                if let executable {
                    numbers = runOnce(executable: executable, workload: workload, quick: quick)
                } else {
                    numbers = try measureHere(workload, tasks: taskCount(quick: quick))
                }
                guard let numbers else { continue }
                switch workload {
                case .memory where numbers.count == 2:
                    resident.append(numbers[0])
                    heap.append(numbers[1])
                case .spawnGather where numbers.count == 1: rates.append(numbers[0])
                default: continue
                }
            }
        }
        return Figures(memoryResident: resident.isEmpty ? nil : .init(resident), memoryHeap: heap.isEmpty ? nil : .init(heap),
                       spawnGather: rates.isEmpty ? nil : .init(rates))
    }

    // MARK: - The workloads

    /// `tasks` tasks that each sleep a day, spawned by the root; measured before the first spawn
    /// and once every sleeper has run its first slice and suspended.
    static func memoryPerSleepingTask(tasks: Int) throws -> (resident: Double, heap: Double) {
        let loop = EventLoop(clock: RealClock())
        let resident = SecondsBox(), heap = SecondsBox()
        try loop.run {
            let residentBefore = residentBytes(), heapBefore = loopviz_malloc_in_use()
            let sleepers = (0..<tasks).map { _ in loop.spawn("sleeper") { try await loop.sleep(86_400) } }
            // The root's first yield runs after every sleeper's first slice: all are suspended
            // then. The second lets the loop settle (the pass that ran them all is over).
            try await loop.sleep(0)
            try await loop.sleep(0)
            resident.value = Double(residentBytes() - residentBefore) / Double(tasks)
            heap.value = (Double(loopviz_malloc_in_use()) - Double(heapBefore)) / Double(tasks)
            // The sleepers are left to the loop's clean-up (asyncio.run's: cancelled, then finished).
            withExtendedLifetime(sleepers) {}
        }
        return (resident.value, heap.value)
    }

    /// `tasks` children that return at once, spawned and gathered by the root; tasks per second,
    /// from the first spawn until gather returns.
    static func spawnGather(tasks: Int) throws -> Double {
        let loop = EventLoop(clock: RealClock())
        let elapsed = SecondsBox()
        try loop.run {
            let start = Stopwatch()
            let children = (0..<tasks).map { _ in loop.spawn("child") {} }
            _ = try await loop.gather(children)
            elapsed.value = start.seconds
        }
        return Double(tasks) / elapsed.value
    }

    /// The process's resident set (`/proc/self/statm`'s second field, in pages).
    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    private static func runOnce(executable: String, workload: Workload, quick: Bool) -> [Double]? {
        guard let text = ChildOutput.run(executable, ["bench", "--task-cost-once", workload.rawValue] + (quick ? ["--quick"] : [])) else { return nil }
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        return numbers.isEmpty ? nil : numbers
    }
}
