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
        "python_bare_switches_per_s", "python_instrumented_switches_per_s", "python_instrumented_slowdown",
        "python_instrumented_slowdown_target", "python_rounds",
    ]
    /// Present only when python3 (and uvloop) are installed: null otherwise.
    static let optional: Set<String> = [
        "asyncio_switches_per_s", "uvloop_switches_per_s", "asyncio_memory_per_sleeping_task_bytes",
        "uvloop_memory_per_sleeping_task_bytes", "asyncio_spawn_gather_tasks_per_s", "uvloop_spawn_gather_tasks_per_s",
        "python_bare_switches_per_s", "python_instrumented_switches_per_s", "python_instrumented_slowdown", "python_rounds",
    ]

    /// The echo section's keys: always there, null where a figure is missing (a server not
    /// installed, every round left out because the client was the bottleneck).
    static let echoKeys: [String] = [
        "echo_traced_vs_uvloop_worst", "echo_traced_vs_uvloop_target", "echo_traced_vs_uvloop_aim",
        "echo_tracing_overhead_pct", "echo_tracing_overhead_pct_target", "echo_targets_met", "echo_rounds",
        "echo_window_s", "echo_windows_per_round", "echo_measurements", "echo_left_out_client_bound", "echo_client_cpu_pct_max", "echo_pinned",
        "echo_traced_records", "echo_traced_dropped",
    ] + ["1k_10c", "10k_10c", "100k_10c", "1k_1c", "10k_1c", "100k_1c"].flatMap { setup in
        ["traced", "untraced", "asyncio", "uvloop"].flatMap { server in
            ["rps", "rps_min", "rps_max", "p50_us", "p99_us", "server_cpu_pct"].map { "echo_\(setup)_\(server)_\($0)" }
        } + ["traced_vs_uvloop", "traced_vs_asyncio", "tracing_overhead_pct", "tracing_overhead_pct_min", "tracing_overhead_pct_max",
             "server_bound", "left_out"].map { "echo_\(setup)_\($0)" }
    }

    /// Every echo key is there, a number or null, and the echo part did run: every server of
    /// ours on every setup, the traced ones with a trace.
    static func expectEchoRan(_ object: [String: Any]) throws {
        for key in echoKeys {
            let value = try #require(object[key], "missing \(key)")
            #expect(value is NSNull || (value as? Double)?.isFinite == true, "\(key) = \(value)")
        }
        #expect(object["echo_rounds"] as? Double == 1)
        // 6 setups × our 2 servers at least (the Python ones when python3 is there).
        #expect(object["echo_measurements"] as? Double ?? 0 >= 12)
        #expect(object["echo_traced_records"] as? Double ?? 0 > 0, "the traced server traced")
        #expect(object["echo_tracing_overhead_pct_target"] as? Double == 5)
    }

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
                // 100 × (1 − traced / untraced): below 100 whenever the traced run ran at all. Its
                // lower side has no bound: a one-round quick run on a loaded machine can find the
                // traced process twice as fast as the untraced one (−100 %, seen once).
                #expect(number < 100, "\(key) = \(number)")
            } else {
                #expect(number > 0, "\(key) = \(number)")
            }
        }
        #expect(object["frame_ms_p99"] as? Double ?? 0 >= object["frame_ms_p50"] as? Double ?? 0)
        try Self.expectEchoRan(object)
    }

    @Test func onlyEchoRunsTheEchoAloneAndLeavesTheRestNull() throws {
        let result = try Loopviz.run(["bench", "--quick", "--json", "--only", "echo"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        try Self.expectEchoRan(object)
        for key in ["ping_traced_switches_per_s", "timer_ops_per_s", "ring_ns_per_event", "frame_ms_p50"] {
            #expect(object[key] is NSNull, "\(key) was not measured")
        }
    }

    @Test func onlyRejectsAnUnknownPart() throws {
        let result = try Loopviz.run(["bench", "--only", "pong"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("no part named \"pong\""))
    }

    @Test func helpSaysDebugNumbersMeanNothing() throws {
        let result = try Loopviz.run(["bench", "--help"])
        #expect(result.stdout.contains("debug numbers mean nothing"))
    }
}
