import Foundation
import Testing

/// `loopviz bench --quick --json`: every documented key is there with a sane value. No
/// assertion on speed (that is what the bench itself is for).
@Suite("loopviz bench")
struct BenchCommandTests {
    static let keys = [
        "ping_traced_switches_per_s", "ping_untraced_switches_per_s", "asyncio_switches_per_s", "uvloop_switches_per_s",
        "tracing_overhead_pct", "timer_ops_per_s", "event_fanout_wakes_per_s", "ring_ns_per_event",
        "ring_cross_thread_events_per_s", "frame_ms_p50", "frame_ms_p99", "history_bytes_per_event", "peak_rss_mb",
        "memory_per_sleeping_task_bytes", "memory_per_sleeping_task_target_bytes", "memory_per_sleeping_task_heap_bytes",
        "asyncio_memory_per_sleeping_task_bytes", "uvloop_memory_per_sleeping_task_bytes",
        "spawn_gather_tasks_per_s", "spawn_gather_target_tasks_per_s",
        "asyncio_spawn_gather_tasks_per_s", "uvloop_spawn_gather_tasks_per_s",
    ]
    /// Present only when python3 (and uvloop) are installed: null otherwise.
    static let optional: Set<String> = [
        "asyncio_switches_per_s", "uvloop_switches_per_s", "asyncio_memory_per_sleeping_task_bytes",
        "uvloop_memory_per_sleeping_task_bytes", "asyncio_spawn_gather_tasks_per_s", "uvloop_spawn_gather_tasks_per_s",
    ]

    @Test func quickJSONHasEveryKeyWithAPositiveFiniteValue() throws {
        let result = try Loopviz.run(["bench", "--quick", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        for key in Self.keys {
            let value = try #require(object[key], "missing \(key)")
            if value is NSNull {
                #expect(Self.optional.contains(key), "\(key) is null")
                continue
            }
            let number = try #require(value as? Double, "\(key) is not a number")
            #expect(number.isFinite, "\(key)")
            if key == "tracing_overhead_pct" {
                #expect(number > -100 && number < 100, "\(key) = \(number)")  // a difference: may be slightly negative
            } else {
                #expect(number > 0, "\(key) = \(number)")
            }
        }
        #expect(object["frame_ms_p99"] as? Double ?? 0 >= object["frame_ms_p50"] as? Double ?? 0)
    }

    @Test func helpSaysDebugNumbersMeanNothing() throws {
        let result = try Loopviz.run(["bench", "--help"])
        #expect(result.stdout.contains("debug numbers mean nothing"))
    }
}
