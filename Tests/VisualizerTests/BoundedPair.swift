import Trace
@testable import Visualizer

/// SplitMix64: the same pseudo-random records on every run.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

/// A bounded history and an unbounded one fed the same records: whatever the bounded one
/// retains must read exactly as the unbounded one's tail (segments, markers, finished steps,
/// lane events, steps), so trimming, carried starts and index rebasing are checked together.
struct BoundedPair {
    private(set) var bounded: LaneModel
    private(set) var whole: LaneModel

    init(names: NameTable, limit: Int, rebaseDistance: Int) {
        bounded = LaneModel(names: names)
        bounded.historyLimit = limit
        bounded.releasesTrimmedText = false
        bounded.indexRebaseDistance = rebaseDistance
        whole = LaneModel(names: names)
        whole.releasesTrimmedText = false
    }

    mutating func apply(_ record: TraceRecord) {
        bounded.apply(record)
        whole.apply(record)
    }

    /// What differs now, in words; empty when the retained history reads as the tail.
    func mismatches() -> [String] {
        var found: [String] = []
        for lane in bounded.lanes {
            guard let full = whole.lane(lane.id) else {
                found.append("\(lane.name): no lane in the unbounded model")
                continue
            }
            let kept = Array(bounded.segments(of: lane))
            if kept != Array(whole.segments(of: full).suffix(kept.count)) { found.append("\(lane.name): segments") }
            let markers = Array(bounded.markers(of: lane))
            if markers != Array(whole.markers(of: full).suffix(markers.count)) { found.append("\(lane.name): markers") }
            if bounded.finishedStep(of: lane) != whole.finishedStep(of: full) { found.append("\(lane.name): finished step") }
            if bounded.eventSteps(of: lane) != whole.eventSteps(of: full).filter({ $0 >= bounded.firstCursor }) {
                found.append("\(lane.name): event steps")
            }
        }
        for number in bounded.stepRange where bounded.hasStep(number) && bounded.step(number) != whole.step(number) {
            found.append("step \(number)")
        }
        return found
    }
}
