import Foundation
import Loop
import Trace

/// Workloads on the loop itself.
enum LoopBenchmarks {
    /// `asyncio_ping.py`'s workload: `tasks` tasks, each `sleep(0)` `yields` times, on the real
    /// clock. Traced: every record goes through the ring to a reader thread, as in the live UI.
    /// Returns task switches per second and the records the ring dropped.
    static func ping(tasks: Int, yields: Int, traced: Bool) throws -> (switchesPerSecond: Double, dropped: Int) {
        let ring = traced ? TraceRing(capacity: 1 << 16) : nil
        let loop = EventLoop(clock: RealClock(), ring: ring)
        let reader = ring.map { ring in
            let counter = Counter()
            return TraceReader(ring: ring, pollInterval: .milliseconds(1)) { batch in counter.value += batch.count }
        }
        reader?.start()
        let start = Stopwatch()
        try loop.run {
            let workers = (0..<tasks).map { _ in
                loop.spawn("worker") {
                    for _ in 0..<yields { try await loop.sleep(0) }
                }
            }
            _ = try await loop.gather(workers)
        }
        let seconds = start.seconds
        reader?.stop()
        return (Double(tasks * yields) / seconds, ring?.dropped ?? 0)
    }

    /// `count` tasks, each sleeping its own delay, on the virtual clock: a timer heap insert,
    /// a fire and a wake-up per task. Returns operations per second.
    static func timers(count: Int) throws -> Double {
        let loop = EventLoop(clock: VirtualClock())
        let start = Stopwatch()
        try loop.run {
            let sleepers = (0..<count).map { index in
                loop.spawn("sleeper") { try await loop.sleep(Double((index * 7919) % count + 1) * 1e-6) }
            }
            _ = try await loop.gather(sleepers)
        }
        return Double(count) / start.seconds
    }

    /// `waiters` tasks wait on one event; measured from `set()` until the last has resumed.
    static func eventFanout(waiters: Int) throws -> Double {
        let loop = EventLoop(clock: VirtualClock())
        let elapsed = SecondsBox()
        try loop.run {
            let event = Event(loop: loop)
            let tasks = (0..<waiters).map { _ in loop.spawn("waiter") { try await event.wait() } }
            try await loop.sleep(0)  // every waiter runs its first slice and waits
            let start = Stopwatch()
            event.set()
            _ = try await loop.gather(tasks)
            elapsed.value = start.seconds
        }
        return Double(waiters) / elapsed.value
    }
}

/// Monotonic wall time since creation.
struct Stopwatch {
    private let start = ContinuousClock.now
    var seconds: Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// `@unchecked Sendable`: captured by tasks of one loop, so only ever touched by its thread.
final class Counter: @unchecked Sendable { var value = 0 }
/// `@unchecked Sendable`: as ``Counter``, written on the loop thread and read after `run` returns.
final class SecondsBox: @unchecked Sendable { var value = 0.0 }
