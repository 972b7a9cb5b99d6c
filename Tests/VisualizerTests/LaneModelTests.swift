import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

@Suite("Lane model")
struct LaneModelTests {
    @Test func countGivesThreeLanesRunningSleepingAndFinishingTogether() throws {
        let model = try Runs.model(CountScenario())
        #expect(model.lanes.map(\.name) == ["main", "count#1", "count#2", "count#3"])
        let count1 = try #require(model.lane(model.lanes[1].id))
        #expect(model.segments(of: count1).map(\.state) == [.ready, .running, .sleeping(until: 1_000_000_000), .ready, .running])
        #expect(count1.isDone)
        #expect(model.markers(of: count1).map(\.kind).contains(.timerFired))
        #expect(model.markers(of: count1).last?.kind == .done(.ok))
        let main = model.lanes[0]
        #expect(model.segments(of: main).map(\.state).contains(.awaiting(child: model.lanes[1].id)))
        #expect(model.steps.count == 11)
        #expect(model.log.map(\.text) == ["One", "One", "One", "Two", "Two", "Two"])
        #expect(model.outcome == .ok)
    }

    @Test func eventShowsWaitersWokenBySetEventThroughTheEvent() throws {
        let model = try Runs.model(EventScenario())
        #expect(model.lanes.map(\.name) == ["main", "set_event", "coro1#1", "coro2#1"])
        let setEvent = model.lanes[1]
        #expect(setEvent.kind == .callback)
        #expect(model.segments(of: setEvent).map(\.state) == [.timerPending, .running])
        let event = try #require(model.markers(of: setEvent).compactMap { marker -> EntityID? in
            if case .eventSet(let id) = marker.kind { return id } else { return nil }
        }.first)
        #expect(model.names.name(event) == "Event#1")
        let wakes = model.wakes.filter { $0.cause == .eventSet }
        #expect(wakes.map { model.names.name($0.woken) } == ["coro1#1", "coro2#1"])
        #expect(wakes.allSatisfy { $0.waker == setEvent.id && $0.via == event })
        #expect(model.segments(of: model.lanes[2]).map(\.state).contains(.waiting(on: event)))
    }

    @Test func aGapMakesOpenLanesUnknownUntilTheirNextRecordSaysOtherwise() throws {
        let names = NameTable()
        let task = names.intern("t#1", kind: .task)
        var model = LaneModel(names: names)
        model.apply(TraceRecord(time: 0, kind: .taskSpawned, subject: task, state: .ready))
        model.apply(TraceRecord(time: 0, kind: .taskResumed, subject: task, state: .running))
        model.apply(TraceRecord(time: 5, kind: .gap, subject: .none, value: 7))
        #expect(model.lanes[0].currentState == .unknown)
        #expect(model.dropped == 7)
        // The record after the gap carries the task's state: the lane is right again.
        model.apply(TraceRecord(time: 9, kind: .taskSuspended, subject: task, value: 20,
                                detail: SuspendReason.sleep.rawValue, state: .sleeping))
        #expect(model.lanes[0].currentState == .sleeping(until: 20))
        #expect(model.markers(of: model.lanes[0]).contains { $0.kind == .gap(count: 7) })
    }

    @Test func recordsForATaskWhoseSpawnWasLostStillMakeALane() {
        let names = NameTable()
        let task = names.intern("late#1", kind: .task)
        var model = LaneModel(names: names)
        model.apply(TraceRecord(time: 3, kind: .taskResumed, subject: task, state: .running))
        #expect(model.lanes.map(\.name) == ["late#1"])
        #expect(model.lanes[0].currentState == .running)
    }

    @Test func stepsAreDescribedInWords() throws {
        let model = try Runs.model(CountScenario())
        #expect(StepDescription.describe(step: 1, in: model) == "t=0.000 step main: spawns count#1, count#2, count#3, awaits count#1")
        #expect(StepDescription.describe(step: 2, in: model) == "t=0.000 step count#1: prints \"One\", sleeps until 1.000")
        #expect(StepDescription.describe(step: 5, in: model) == "t=1.000 timer sleep → count#1 ready")
        #expect(StepDescription.describe(step: 10, in: model) == "t=1.000 step count#3: prints \"Two\", done → main ready")
        let event = try Runs.model(EventScenario())
        #expect(StepDescription.describe(step: 4, in: event)
            == "t=1.000 timer set_event: prints \"setting event in callback\", sets Event#1 → coro1#1, coro2#1 ready")
    }
}

@Suite("Lost records")
struct LostRecordTests {
    @Test func aRingTooSmallForTheRunStillReportsEveryLostRecord() throws {
        // 16 slots for a run of ~80 records, drained only at the end: most are lost, and the
        // total the model shows equals what the ring counted, trailing losses included.
        let ring = TraceRing(capacity: 16)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        try BlockingScenario().run(on: loop)
        var model = LaneModel(names: loop.names)
        ring.drain { model.apply($0) }
        #expect(ring.dropped > 0)
        model.accountForTrailingDrops(ringDropped: ring.dropped)
        #expect(model.dropped == Int64(ring.dropped))
        #expect(model.lanes.contains { lane in model.markers(of: lane).contains { if case .gap = $0.kind { true } else { false } } })
    }
}
