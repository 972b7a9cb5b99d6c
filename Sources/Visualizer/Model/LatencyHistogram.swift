/// How a lane's waits in the ready queue are spread, as tokio-console's task view draws its
/// poll-time histogram: a few equal buckets from 0 to the longest wait, a bar and a count each.
/// The percentiles say how bad the tail is; the shape says whether it is one outlier or many.
public struct LatencyHistogram: Sendable, Equatable {
    /// The longest wait (the last bucket's upper bound), in nanoseconds.
    public var maximum: Int64
    /// Waits per bucket; bucket `i` holds waits in `[i, i + 1) × maximum / count` (the last one
    /// includes the maximum).
    public var counts: [Int]

    /// Buckets `latencies` (nanoseconds, any order). All waits of 0 (the virtual clock, where
    /// time stands still between timers) make a single bucket. O(latencies).
    public init(latencies: [Int64], buckets: Int = 5) {
        let maximum = latencies.max() ?? 0
        self.maximum = maximum
        let count = maximum == 0 ? 1 : max(1, buckets)
        var counts = Array(repeating: 0, count: count)
        for latency in latencies {
            // Double, not Int64 products: a wait of hours times the bucket count must not overflow.
            let bucket = maximum == 0 ? 0 : Int(Double(max(0, latency)) / Double(maximum) * Double(count))
            counts[min(bucket, count - 1)] += 1
        }
        self.counts = latencies.isEmpty ? [] : counts
    }

    /// One line per bucket: `  0–1.2 ms ████▌        12`, bars scaled to the fullest bucket
    /// over `barWidth` cells in eighths of a cell (ASCII: whole `#`). A bucket that holds
    /// anything shows at least a sliver, so an outlier is never invisible.
    public func lines(barWidth: Int = 16, unicode: Bool) -> [String] {
        guard let fullest = counts.max(), fullest > 0 else { return [] }
        let (divisor, name) = Self.unit(for: maximum)
        let unit = unicode || name != "µs" ? name : "us"
        let bounds = maximum == 0 ? ["0 ms"] : counts.indices.map { index -> String in
            let upper = Double(maximum) * Double(index + 1) / Double(counts.count) / divisor
            let lower = Double(maximum) * Double(index) / Double(counts.count) / divisor
            return "\(Self.number(lower))\(unicode ? "–" : "-")\(Self.number(upper)) \(unit)"
        }
        let labelWidth = bounds.map(\.count).max() ?? 0
        let width = max(1, barWidth)
        return counts.indices.map { index in
            let count = counts[index]
            let eighths = count == 0 ? 0 : max(1, Int((Double(count) / Double(fullest) * Double(width * 8)).rounded()))
            let bar = unicode ? Self.unicodeBar(eighths: eighths) : String(repeating: "#", count: count == 0 ? 0 : max(1, eighths / 8))
            let padding = String(repeating: " ", count: max(0, width - bar.count))
            let label = String(repeating: " ", count: labelWidth - bounds[index].count) + bounds[index]
            return "  \(label) \(unicode ? "│" : "|")\(bar)\(padding) \(count)"
        }
    }

    /// Whole blocks, then one of `▏▎▍▌▋▊▉` for the remaining eighths.
    static func unicodeBar(eighths: Int) -> String {
        let partial: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        var bar = String(repeating: "█", count: eighths / 8)
        if eighths % 8 > 0 { bar.append(partial[eighths % 8 - 1]) }
        return bar
    }

    /// The unit the bucket bounds read best in: µs below a millisecond, ms below 10 s, else s.
    static func unit(for maximum: Int64) -> (divisor: Double, name: String) {
        if maximum < 1_000_000 { return (1e3, "µs") }
        if maximum < 10_000_000_000 { return (1e6, "ms") }
        return (1e9, "s")
    }

    /// At most two decimals, trailing zeros dropped: `0`, `0.25`, `12.5`.
    static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let whole = hundredths / 100, fraction = hundredths % 100
        if fraction == 0 { return "\(whole)" }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
