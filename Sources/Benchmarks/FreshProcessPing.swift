import Foundation

/// Ping measured in fresh processes. glibc takes single-thread fast paths (mutexes, malloc)
/// until a process creates its second thread; a traced run starts a reader thread, so an
/// untraced run measured after it in the same process would lose those paths and flatter the
/// tracing overhead. Each measurement here is a process of its own, the variants alternate, and
/// the figures are medians with their min–max.
public enum FreshProcessPing {
    /// What one measurement runs.
    public enum Variant: String, Sendable, CaseIterable {
        case untraced, traced
        /// The design's ceiling: a minimal `TaskExecutor` loop (see `MinimalLoop`).
        case ceiling
    }

    /// A median with the range it came from.
    public struct Figure: Sendable {
        public var median: Double
        public var min: Double
        public var max: Double
        init(_ values: [Double]) {
            let sorted = values.sorted()
            // An even count: the mean of the two middle values (the upper one alone leans up).
            median = sorted.isEmpty ? 0
                : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            min = sorted.first ?? 0
            max = sorted.last ?? 0
        }
    }

    /// Runs of the workload in one process, of which it reports the fastest. The VM this was
    /// tuned on has spells in which a process runs at half speed (the same binary, pinned or not,
    /// with or without address randomisation: 3.3 M or 6.3 M switches/s); they only ever slow a
    /// run down, so a process's fastest run is the closest to what its code costs. Each variant
    /// gets the same treatment, and the untraced one still never starts a thread.
    public static let runsPerProcess = 3

    /// One measurement in this process (`loopviz bench --ping-once VARIANT`): switches per
    /// second (the fastest of `runs`), and the records the traced runs' rings dropped.
    public static func measureHere(_ variant: Variant, tasks: Int, yields: Int, runs: Int = runsPerProcess) throws -> (rate: Double, dropped: Int) {
        var best = 0.0
        var dropped = 0
        for _ in 0..<max(1, runs) {
            switch variant {
            case .untraced, .traced:
                let run = try LoopBenchmarks.ping(tasks: tasks, yields: yields, traced: variant == .traced)
                best = max(best, run.switchesPerSecond)
                dropped += run.dropped
            case .ceiling:
                best = max(best, MinimalLoop().ping(tasks: tasks, yields: yields))
            }
        }
        return (best, dropped)
    }

    /// `rounds` rounds; each runs every variant once, each in a fresh `executable` process.
    /// `rounds` in the result: each round's rates by variant (a variant whose process failed is
    /// missing from its round), for ratios of neighbours in time.
    public static func measure(executable: String, quick: Bool, rounds: Int)
        -> (figures: [Variant: (figure: Figure, dropped: Int)], rounds: [[Variant: Double]]) {
        var rates: [Variant: [Double]] = [:]
        var dropped: [Variant: Int] = [:]
        var perRound: [[Variant: Double]] = []
        for _ in 0..<rounds {
            var round: [Variant: Double] = [:]
            for variant in Variant.allCases {
                guard let (rate, lost) = runOnce(executable: executable, variant: variant, quick: quick) else { continue }
                rates[variant, default: []].append(rate)
                dropped[variant, default: 0] += lost
                round[variant] = rate
            }
            perRound.append(round)
        }
        var result: [Variant: (figure: Figure, dropped: Int)] = [:]
        for (variant, values) in rates { result[variant] = (Figure(values), dropped[variant] ?? 0) }
        return (result, perRound)
    }

    /// The median (and range) over rounds of `f(round)`, for the rounds where it is defined:
    /// processes next to each other in time share the machine's slow drifts, which ratios of
    /// medians over the whole run do not cancel.
    public static func paired(_ rounds: [[Variant: Double]], _ f: ([Variant: Double]) -> Double?) -> Figure? {
        let values = rounds.compactMap(f)
        return values.isEmpty ? nil : Figure(values)
    }

    private static func runOnce(executable: String, variant: Variant, quick: Bool) -> (Double, Int)? {
        guard let text = ChildOutput.run(executable, ["bench", "--ping-once", variant.rawValue] + (quick ? ["--quick"] : [])) else { return nil }
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let rate = Double(words[0]), let lost = Int(words[1]) else { return nil }
        return (rate, lost)
    }
}
