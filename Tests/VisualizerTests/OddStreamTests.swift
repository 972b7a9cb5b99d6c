import Foundation
import Loop
import Testing
import Trace
@testable import Visualizer

/// Streams a recording or an attach socket may legally carry but no loop writes: records for
/// lanes after they are done, callbacks that run again, gaps, time jumps of seconds, values
/// anywhere in Int64. A bounded history must read the same as an unbounded one's tail, and
/// nothing may trap: the model, the statistics, the export, the panel, the frames.
@Suite("Odd streams")
struct OddStreamTests {
    /// What a file or attach stream may legally carry: times monotone in [0, 1 day], ids declared,
    /// any value/detail/state.
    static func stream(_ count: Int, seed: UInt64, names: NameTable, extremeValues: Bool) -> [TraceRecord] {
        var n = SplitMix(state: seed)
        let tasks = (0..<6).map { names.intern("t\($0)", kind: .task) }
        let callbacks = (0..<3).map { names.intern("cb\($0)", kind: .callback) }
        let events = (0..<2).map { names.intern("Event#\($0 + 1)", kind: .event) }
        let text = names.intern("hello", kind: .text)
        let all = tasks + callbacks + events
        let kinds: [TraceKind] = [.taskSpawned, .taskReady, .taskResumed, .taskSuspended, .taskDone, .timerScheduled, .timerFired,
                                  .callbackStarted, .callbackFinished, .eventSet, .output, .gap, .awaitNext, .ioReady, .ioWritten,
                                  .loopIdle, .callbackQueued, .timerDue, .primitiveAcquired, .primitiveReleased, .runFinished]
        var time: Int64 = 0
        return (0..<count).map { _ in
            switch n.below(100) {
            case 0: time += 150_000_000
            case 1: time += 3_000_000_000
            default: time += Int64(n.below(200_000))
            }
            time = min(time, 86_400 * 1_000_000_000)
            let kind = kinds[n.below(kinds.count)]
            var value: Int64 = switch n.below(extremeValues ? 5 : 3) {
            case 0: Int64(n.below(10))
            case 1: time + Int64(n.below(200_000_000))
            case 2: time - Int64(n.below(200_000_000))
            case 3: [Int64.min, .max, -1, Int64.min + 1][n.below(4)]
            default: Int64(bitPattern: n.next())
            }
            if kind == .output { value = Int64(text.rawValue) }
            if kind == .gap { value = abs(value % 1000) }
            let subject = kind == .eventSet ? events[n.below(2)] : (n.below(4) == 0 ? callbacks[n.below(3)] : all[n.below(all.count)])
            return TraceRecord(time: time, kind: kind, subject: subject, other: all[n.below(all.count)], value: value,
                               detail: UInt8(truncatingIfNeeded: n.next() % 12),
                               state: TaskState.allCases[n.below(TaskState.allCases.count)])
        }
    }

    static func exercise(_ model: LaneModel) {
        for lane in model.lanes {
            _ = Array(model.segments(of: lane)); _ = Array(model.markers(of: lane))
            _ = model.finishedStep(of: lane); _ = model.eventSteps(of: lane)
            _ = TaskStatistics.of(lane, in: model, now: model.lastTime).lines
        }
        _ = model.warningSteps
        _ = ChromeTrace.json(model, process: "x")
        for axis in [TimeAxis.time, .step] {
            for cursor in [nil, model.firstCursor, (model.firstCursor + model.stepCount) / 2] as [Int?] {
                var view = ViewState(scenario: "x", clock: .virtual)
                view.axis = axis; view.cursor = cursor; view.showStats = true
                view.selectedLane = 0
                _ = ScreenLayout.screen(model: model, view: view, width: 100, height: 40)
                view.showLoopState = true; view.showStats = false
                _ = ScreenLayout.screen(model: model, view: view, width: 100, height: 40)
            }
        }
        if model.stepCount > 0 {
            for number in stride(from: model.firstCursor, through: model.stepCount, by: max(1, model.stepCount / 50)) where number >= 1 {
                _ = StepDescription.describe(step: number, in: model)
                _ = LoopQueues.before(step: number, in: model)
            }
        }
    }

    /// Bounded vs whole on a legal-but-odd stream: tails equal, nothing traps.
    @Test(arguments: [1 as UInt64, 2, 3])
    func boundedMatchesWholeOnOddStreams(seed: UInt64) throws {
        let names = NameTable()
        let records = Self.stream(15_000, seed: seed, names: names, extremeValues: false)
        var pair = BoundedPair(names: names, limit: 1000, rebaseDistance: 97)
        for (offset, record) in records.enumerated() {
            pair.apply(record)
            guard offset % 997 == 0 || offset == records.count - 1 else { continue }
            let mismatches = pair.mismatches()
            #expect(mismatches.isEmpty, "after record \(offset): \(mismatches.prefix(5))")
        }
        #expect(pair.bounded.indexBase > 0)
        Self.exercise(pair.bounded)
        Self.exercise(pair.whole)
    }

    /// Extreme values (a file may carry any Int64 value): nothing may trap.
    @Test(arguments: [11 as UInt64, 12, 13])
    func extremeValuesDoNotTrap(seed: UInt64) {
        let names = NameTable()
        let records = Self.stream(8_000, seed: seed, names: names, extremeValues: true)
        var bounded = LaneModel(names: names)
        bounded.historyLimit = 1000
        for record in records { bounded.apply(record) }
        #expect(bounded.eventCount == records.count && bounded.firstRecordIndex > 0)
        Self.exercise(bounded)
    }

    /// A sleep whose deadline is Int64.min (legal in a recording: values are not checked), then
    /// its timer fires and the task resumes.
    @Test func sleepDeadlineMinThenResume() {
        let names = NameTable()
        let t = names.intern("t", kind: .task)
        var model = LaneModel(names: names)
        for r in [TraceRecord(time: 0, kind: .taskSpawned, subject: t),
                  TraceRecord(time: 1, kind: .taskResumed, subject: t),
                  TraceRecord(time: 2, kind: .taskSuspended, subject: t, value: .min, state: .sleeping),
                  TraceRecord(time: 3, kind: .timerFired, subject: t),
                  TraceRecord(time: 4, kind: .taskResumed, subject: t)] { model.apply(r) }
        // The late timer's ready segment starts no earlier than the sleep did.
        let segments = Array(model.segments(of: model.lanes[0]))
        #expect(segments.map(\.state) == [.ready, .running, .sleeping(until: .min), .ready, .running])
        #expect(segments[3].startTime == 2)
        Self.exercise(model)
    }
}
