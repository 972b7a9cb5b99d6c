import Trace

/// tokio-console's busy / scheduled / idle for one lane: how often it ran and for how long,
/// how long it waited in the ready queue (scheduling latency), what it was suspended on, and
/// who woke it. Pure: computed from the model on demand.
public struct TaskStatistics: Sendable, Equatable {
    public var name: String
    /// Slices run (or callback runs).
    public var steps = 0
    /// How many times the task waited on a socket.
    public var ioWaits = 0
    public var running: Int64 = 0
    /// Total time ready but not running.
    public var ready: Int64 = 0
    /// Waits in the ready queue over the whole run, and the longest.
    public var waits = 0
    public var longestWait: Int64 = 0
    /// Each wait in the ready queue still in memory, sorted (all of them unless the history
    /// was trimmed: the percentiles and the histogram describe these).
    public var latencies: [Int64] = []
    /// Time suspended, by what it waited on ("sleep", "Event#1", "children"), largest first.
    public var suspended: [(what: String, nanoseconds: Int64)] = []
    /// Who made it ready and how often, most often first ("timer" for its own sleeps).
    public var wokenBy: [(who: String, count: Int)] = []

    public static func == (a: TaskStatistics, b: TaskStatistics) -> Bool {
        a.name == b.name && a.steps == b.steps && a.running == b.running && a.ready == b.ready && a.latencies == b.latencies
            && a.waits == b.waits && a.longestWait == b.longestWait && a.ioWaits == b.ioWaits
            && a.suspended.map(\.what) == b.suspended.map(\.what) && a.suspended.map(\.nanoseconds) == b.suspended.map(\.nanoseconds)
            && a.wokenBy.map(\.who) == b.wokenBy.map(\.who) && a.wokenBy.map(\.count) == b.wokenBy.map(\.count)
    }

    /// The latency at `fraction` (0.5: median), by nearest rank; 0 with no waits.
    public func latency(_ fraction: Double) -> Int64 {
        guard !latencies.isEmpty else { return 0 }
        let rank = Int((Double(latencies.count) * fraction).rounded(.up)) - 1
        return latencies[min(max(rank, 0), latencies.count - 1)]
    }

    /// Statistics of `lane` from its segments, plus the totals of those that left memory; open
    /// segments count up to `now`. O(segments + the lane's wakers).
    public static func of(_ lane: Lane, in model: LaneModel, now: Int64) -> TaskStatistics {
        var statistics = TaskStatistics(name: lane.name)
        let trimmed = lane.trimmed
        statistics.steps = trimmed.steps
        statistics.ioWaits = trimmed.ioWaits
        statistics.running = trimmed.running
        statistics.ready = trimmed.ready
        statistics.waits = trimmed.waits
        statistics.longestWait = trimmed.longestWait
        var suspended = trimmed.suspended
        for segment in model.segments(of: lane) {
            let duration = max(0, (segment.endTime ?? now) - segment.startTime)
            switch segment.state {
            case .running:
                statistics.steps += 1
                statistics.running += duration
            case .ready:
                statistics.ready += duration
                statistics.latencies.append(duration)
                statistics.waits += 1
                statistics.longestWait = max(statistics.longestWait, duration)
            case .waitingIO:
                statistics.ioWaits += 1
                suspended[Vocabulary.describe(segment.state, names: model.names), default: 0] += duration
            case .sleeping, .waiting, .awaiting, .timerPending, .unknown:
                suspended[Vocabulary.describe(segment.state, names: model.names), default: 0] += duration
            }
        }
        statistics.latencies.sort()
        statistics.suspended = suspended.map { ($0.key, $0.value) }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        // Every wake-up of the run, trimmed or not, counted as it came (see Lane.wokenCounts).
        var woken: [String: Int] = [:]
        for (waker, count) in lane.wokenCounts {
            let who = switch waker {
            case .entity(let id): model.names.name(id)
            case .cause(let cause): cause.words
            }
            woken[who, default: 0] += count
        }
        statistics.wokenBy = woken.map { ($0.key, $0.value) }.sorted { ($0.1, $1.0) > ($1.1, $0.0) }
        return statistics
    }

    /// The figures as lines of text, for the panel and for `--plain`.
    public var lines: [String] {
        // Percentiles over the waits still in memory, when some left it.
        let which = latencies.count < waits ? "  (p50/p99 of the last \(latencies.count))" : ""
        return [
            "\(name)",
            "steps \(steps)   running \(Self.ms(running))",
            "ready (waiting for the loop) \(Self.ms(ready)) in \(waits) waits",
            "  latency p50 \(Self.ms(latency(0.5)))  p99 \(Self.ms(latency(0.99)))  max \(Self.ms(longestWait))\(which)",
        ] + (ioWaits > 0 ? ["I/O waits \(ioWaits) (sockets: bytes, room to write, connections)"] : []) + [
            "suspended: " + (suspended.isEmpty ? "never" : suspended.map { "\($0.what) \(Self.ms($0.nanoseconds))" }.joined(separator: ", ")),
            "woken by: " + (wokenBy.isEmpty ? "nobody" : wokenBy.map { "\($0.who) ×\($0.count)" }.joined(separator: ", ")),
        ]
    }

    /// `12.345 ms`.
    public static func ms(_ nanoseconds: Int64) -> String {
        let millis = Double(nanoseconds) / 1e6
        let rounded = (millis * 1000).rounded() / 1000
        return "\(rounded) ms"
    }
}

extension LaneModel {
    /// After a deadlock (the loop found that nothing could ever run again): every unfinished
    /// task and what it waits on, in words (`waiter#1 waits on Event#1`). Empty otherwise.
    public var stuckTasks: [String] {
        guard outcome == .deadlock else { return [] }
        return lanes.filter { $0.kind == .task && !$0.isDone }.map { lane in
            switch lane.currentState {
            case .waiting(let on)?: "\(lane.name) \(Vocabulary.waiting.verb) \(names.name(on))"
            case .waitingIO(let on, let operation)?: "\(lane.name) \(Vocabulary.waitingIO.verb) \(operation.words) \(names.name(on))"
            case .awaiting(let child)?: "\(lane.name) \(Vocabulary.awaiting.verb) \(names.name(child))"
            case .sleeping?: "\(lane.name) \(Vocabulary.sleeping.verb)"
            default: "\(lane.name) is suspended outside the loop"
            }
        }
    }
}

extension LaneModel {
    /// At the end of a run: records the ring lost after its last successful write have no
    /// `gap` record behind them (nothing came after to carry it). `ringDropped` is the ring's
    /// own count; the difference becomes a final gap, so the count on screen is never short.
    public mutating func accountForTrailingDrops(ringDropped: Int) {
        let missing = Int64(ringDropped) - dropped
        guard missing > 0 else { return }
        apply(TraceRecord(time: lastTime, kind: .gap, subject: .none, value: missing))
    }
}
