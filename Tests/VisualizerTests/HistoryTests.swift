import Loop
import Scenarios
import Testing
import Trace
@testable import LoopViz
@testable import Visualizer

/// A bounded history (`--history N`): the oldest steps leave memory in chunks while step
/// numbers, per-lane totals and the loop's rebuilt queues stay what an unbounded model says.
@Suite("Bounded history")
struct HistoryTests {
    /// A long run's records and names: 150 downloads through a Semaphore(3), so lanes finish
    /// all along the run (and can retire), printing as they go.
    static func longRun() throws -> (records: [TraceRecord], names: NameTable) {
        let ring = TraceRing(capacity: 1 << 16)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        try SemaphoreScenario(downloads: 150, limit: 3, delay: 0.1).run(on: loop)
        var records: [TraceRecord] = []
        ring.drain { records.append($0) }
        return (records, loop.names)
    }

    static func model(_ records: [TraceRecord], names: NameTable, limit: Int = .max, releasingText: Bool = false) -> LaneModel {
        var model = LaneModel(names: names)
        model.historyLimit = limit
        model.releasesTrimmedText = releasingText
        for record in records { model.apply(record) }
        return model
    }

    @Test func keepsAtMostTheLimitPlusAChunkWithStableNumbers() throws {
        let (records, names) = try Self.longRun()
        let full = Self.model(records, names: names)
        var bounded = LaneModel(names: names)
        bounded.historyLimit = 300
        bounded.releasesTrimmedText = false
        #expect(records.count > 3 * 300)
        for record in records {
            bounded.apply(record)
            #expect(bounded.records.count <= 300 + bounded.historyChunk)
        }
        #expect(bounded.firstRecordIndex > 0 && bounded.trimmedSteps > 0)
        #expect(bounded.eventCount == records.count)
        #expect(bounded.stepCount == full.stepCount)
        #expect(bounded.firstCursor == bounded.trimmedSteps + 1)
        for number in bounded.stepRange {
            #expect(bounded.step(number) == full.step(number))
            #expect(StepDescription.describe(step: number, in: bounded) == StepDescription.describe(step: number, in: full))
        }
        for index in bounded.firstRecordIndex..<bounded.eventCount {
            #expect(bounded.record(at: index) == full.record(at: index))
        }
        // What is retained carries the same step numbers as in the unbounded model.
        #expect(bounded.log == Array(full.log.suffix(bounded.log.count)))
        #expect(Array(bounded.wakes) == Array(full.wakes.suffix(bounded.wakes.count)))
        #expect(bounded.log.allSatisfy { $0.step >= bounded.firstCursor })
        for lane in bounded.lanes {
            #expect(bounded.markers(of: lane).allSatisfy { $0.step >= bounded.firstCursor })
            #expect(bounded.segments(of: lane).allSatisfy { ($0.endStep ?? .max) >= bounded.firstCursor })
        }
    }

    /// Segments and markers are read off the retained records; a segment that began before the
    /// oldest retained step (a long wait) keeps its start, and the indices into the records stay
    /// right when they move to a new base.
    @Test(arguments: [1 << 30, 97])
    func retainedLanesReadTheSameAsTheUnboundedModelsTail(rebaseDistance: Int) throws {
        let (records, names) = try Self.longRun()
        let full = Self.model(records, names: names)
        var pair = BoundedPair(names: names, limit: 300, rebaseDistance: rebaseDistance)
        var carried = 0
        for (offset, record) in records.enumerated() {
            pair.apply(record)
            guard offset % 257 == 0 || offset == records.count - 1 else { continue }
            carried += pair.bounded.lanes.filter { $0.carriedStart != nil }.count
            let mismatches = pair.mismatches()
            #expect(mismatches.isEmpty, "after record \(offset): \(mismatches.prefix(5))")
        }
        #expect(carried > 0, "no segment began before a cut: the carried start went untested")
        if rebaseDistance < 1 << 30 { #expect(pair.bounded.indexBase > 0) }
        #expect(Array(pair.bounded.steps) == Array(full.steps.suffix(pair.bounded.steps.count)))
    }

    @Test func taskStatisticsTotalsSurviveTrimmingAndRetiring() throws {
        let (records, names) = try Self.longRun()
        let full = Self.model(records, names: names)
        let bounded = Self.model(records, names: names, limit: 300)
        #expect(bounded.retiredLanes > 0)
        #expect(bounded.lanes.count + bounded.retiredLanes == full.lanes.count)
        var retired = LaneTotals()
        for lane in full.lanes {
            let whole = TaskStatistics.of(lane, in: full, now: full.lastTime)
            guard let kept = bounded.lane(lane.id) else {
                // Retired: its figures are in the model's summary.
                var totals = LaneTotals()
                for segment in full.segments(of: lane) { totals.add(segment, names: names) }
                totals.wokenBy = Dictionary(uniqueKeysWithValues: whole.wokenBy.map { ($0.who, $0.count) })
                retired.add(totals)
                continue
            }
            let trimmed = TaskStatistics.of(kept, in: bounded, now: bounded.lastTime)
            #expect(trimmed.steps == whole.steps)
            #expect(trimmed.running == whole.running)
            #expect(trimmed.ready == whole.ready)
            #expect(trimmed.waits == whole.waits && trimmed.waits == whole.latencies.count)
            #expect(trimmed.longestWait == whole.longestWait)
            #expect(trimmed.ioWaits == whole.ioWaits)
            #expect(trimmed.suspended.map(\.what) == whole.suspended.map(\.what))
            #expect(trimmed.suspended.map(\.nanoseconds) == whole.suspended.map(\.nanoseconds))
            #expect(trimmed.wokenBy.map(\.who) == whole.wokenBy.map(\.who))
            #expect(trimmed.wokenBy.map(\.count) == whole.wokenBy.map(\.count))
        }
        #expect(bounded.retiredTotals == retired)
    }

    @Test func loopQueuesFromTheCheckpointEqualTheUnboundedOnes() throws {
        let (records, names) = try Self.longRun()
        let full = Self.model(records, names: names)
        let bounded = Self.model(records, names: names, limit: 300)
        for number in bounded.stepRange {
            let (kept, keptNext) = LoopQueues.before(step: number, in: bounded)
            let (whole, wholeNext) = LoopQueues.before(step: number, in: full)
            #expect(kept.snapshot == whole.snapshot, "before step \(number)")
            #expect(keptNext == wholeNext)
        }
        #expect(LoopQueues.before(step: bounded.stepCount + 1, in: bounded).queues.snapshot
                == LoopQueues.before(step: full.stepCount + 1, in: full).queues.snapshot)
        // The panel works from the oldest step kept on.
        #expect(LoopStatePanel.lines(model: bounded, after: bounded.firstCursor).lines
                == LoopStatePanel.lines(model: full, after: bounded.firstCursor).lines)
    }

    @Test func theLayoutDrawsAtEveryCursor() throws {
        let (records, names) = try Self.longRun()
        let bounded = Self.model(records, names: names, limit: 300)
        let steps = bounded.stepCount
        let cursors: [Int?] = [nil, 0, 1, bounded.firstCursor - 1] + Array(bounded.stepRange).map { $0 } + [steps + 5]
        for axis in [TimeAxis.time, .step] {
            for cursor in cursors {
                var view = Runs.view("semaphore", axis: axis)
                view.cursor = cursor
                view.selectedLane = bounded.lanes.count - 1
                for (stats, loopState) in [(false, false), (true, true)] {
                    view.showStats = stats
                    view.showLoopState = loopState
                    _ = ScreenLayout.screen(model: bounded, view: view, width: 100, height: 30)
                }
            }
        }
        let header = ScreenLayout.screen(model: bounded, view: Runs.view("semaphore"), width: 300, height: 30).text
            .split(separator: "\n").first.map(String.init) ?? ""
        #expect(header.contains("\(records.count) events, \(bounded.firstRecordIndex) trimmed, \(bounded.retiredLanes) lanes retired"))
        _ = PlainRun.picture(bounded, scenario: "semaphore", clock: .virtual, width: 100)
        _ = LoopStatePanel.everyStep(bounded)
    }

    @Test func steppingBackStopsAtTheOldestStepKept() throws {
        let (records, names) = try Self.longRun()
        let bounded = Self.model(records, names: names, limit: 300)
        let session = ReplaySession(model: bounded, scenario: "semaphore", clock: .virtual, speed: 1, startPaused: true)
        session.apply(.last)
        for _ in 0..<(bounded.stepCount - bounded.firstCursor) { session.apply(.stepBack) }
        #expect(session.view.cursor == bounded.firstCursor)
        #expect(session.view.notice == nil)
        session.apply(.stepBack)
        #expect(session.view.cursor == bounded.firstCursor)
        #expect(session.view.notice == bounded.oldestStepNotice)
        session.apply(.first)
        #expect(session.view.cursor == bounded.firstCursor)
        // Jumps never land on a step that left memory.
        for lane in bounded.lanes.indices {
            #expect(bounded.eventSteps(of: bounded.lanes[lane]).allSatisfy { $0 >= bounded.firstCursor })
            #expect(bounded.jumpTarget(.previousLaneEvent, from: bounded.firstCursor, lane: lane) == nil)
        }
    }

    @Test func printedTextThatLeftMemoryIsReleased() throws {
        let (records, names) = try Self.longRun()
        let bounded = Self.model(records, names: names, limit: 300, releasingText: true)
        let trimmedOutput = records[..<bounded.firstRecordIndex].filter { $0.kind == .output }
        #expect(!trimmedOutput.isEmpty)
        for record in trimmedOutput {
            let id = EntityID(rawValue: UInt32(truncatingIfNeeded: record.value))
            #expect(names.entry(id)?.kind == .text && names.name(id) == "")
        }
        // What is still shown keeps its words; task names are never forgotten.
        #expect(bounded.log.allSatisfy { !$0.text.isEmpty })
        #expect(bounded.records.filter { $0.kind == .output }.allSatisfy {
            !names.name(EntityID(rawValue: UInt32(truncatingIfNeeded: $0.value))).isEmpty
        })
        #expect(bounded.lanes.allSatisfy { !$0.name.isEmpty && !names.name($0.id).isEmpty })
    }

    @Test func anUnboundedModelNeverTrims() throws {
        let (records, names) = try Self.longRun()
        let full = Self.model(records, names: names)
        #expect(full.firstRecordIndex == 0 && full.trimmedSteps == 0 && full.retiredLanes == 0)
        #expect(full.records.count == records.count && full.firstCursor == 0)
        #expect(RunOptions().historyLimit == LaneModel.defaultHistoryLimit)
    }
}
