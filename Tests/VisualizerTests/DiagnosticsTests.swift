import Loop
import Scenarios
import Testing
import Trace
@testable import LoopViz
@testable import Visualizer

@Suite("Diagnostics")
struct DiagnosticsTests {
    @Test func aBlockingCallIsASlowStepAndTheTickersShowTheirLatenessAsReady() throws {
        let model = try Runs.model(BlockingScenario())
        let blocker = try #require(model.lanes.first { $0.name == "blocker#1" })
        // The blocker's second slice (after its 0.15 s sleep) is the slow step.
        let blockerSlices = model.steps.enumerated().filter { $0.element.kind == .slice && $0.element.subject == blocker.id }
        let slowSliceStep = try #require(blockerSlices.last).offset + 1
        #expect(model.slowSteps == [SlowStep(who: blocker.id, start: 150_000_000, duration: 500_000_000, step: slowSliceStep)])
        #expect(model.markers(of: blocker).contains { $0.kind == .slowStep(duration: 500_000_000) })
        #expect(model.log.contains { $0.isDiagnostic && $0.text == "held the loop 500 ms — every other task waited" })
        // ticker#1's second sleep was due at 0.2 s; the loop could fire it only at 0.65 s.
        let ticker = try #require(model.lanes.first { $0.name == "ticker#1" })
        let late = try #require(model.segments(of: ticker).first { $0.state == .ready && $0.startTime == 200_000_000 })
        #expect(late.endTime == 650_000_000)
    }

    @Test func taskFiguresAreBusyScheduledAndIdleTime() throws {
        let model = try Runs.model(BlockingScenario())
        let ticker = try #require(model.lanes.first { $0.name == "ticker#1" })
        let figures = TaskStatistics.of(ticker, in: model, now: model.lastTime)
        #expect(figures.steps == 5)
        #expect(figures.ready == 450_000_000)
        #expect(figures.latencies.count == 5)
        #expect(figures.latency(0.5) == 0)
        #expect(figures.latencies.last == 450_000_000)
        #expect(figures.suspended.map(\.what) == ["sleep"])
        #expect(figures.suspended.first?.nanoseconds == 400_000_000)
        #expect(figures.wokenBy.map(\.who) == ["timer"] && figures.wokenBy.first?.count == 4)
        let blocker = try #require(model.lanes.first { $0.name == "blocker#1" })
        #expect(TaskStatistics.of(blocker, in: model, now: model.lastTime).running == 500_000_000)
    }

    @Test func aQuickerThresholdFlagsMoreAndAFastRunNone() throws {
        #expect(try Runs.model(CountScenario()).slowSteps.isEmpty)
        let ring = TraceRing(capacity: 1 << 12)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        try loop.run {
            loop.blockingCall(0.02)
            try await loop.sleep(0)
            loop.blockingCall(0.002)
        }
        var model = LaneModel(names: loop.names)
        model.slowStepThreshold = 10_000_000
        ring.drain { model.apply($0) }
        #expect(model.slowSteps.map(\.duration) == [20_000_000])
    }

    @Test func waitsOnPrimitivesAreNamedOnTheLanes() throws {
        let queue = try Runs.model(QueueScenario())
        let producer = try #require(queue.lanes.first { $0.name == "producer#1" })
        let waits = queue.segments(of: producer).compactMap { segment -> String? in
            if case .waiting(let on) = segment.state { return queue.names.name(on) } else { return nil }
        }
        #expect(waits.first == "Queue#1 not full")
        // The producer waits whenever the queue is full; a consumer's get lets it go.
        #expect(TaskStatistics.of(producer, in: queue, now: queue.lastTime).wokenBy.map(\.who) == ["consumer#1"])
        let lock = try Runs.model(LockScenario())
        let worker3 = try #require(lock.lanes.first { $0.name == "worker#3" })
        let lockWaits = lock.segments(of: worker3).compactMap { segment -> String? in
            if case .waiting(let on) = segment.state { return lock.names.name(on) } else { return nil }
        }
        #expect(lockWaits == ["Lock#1"])
        #expect(StepDescription.describe(step: 3, in: lock).contains("waits on Lock#1"))
    }
}

@Suite("Deadlock on screen")
struct DeadlockScreenTests {
    @Test func theStatusLineSaysWhichTasksWaitOnWhat() throws {
        let ring = TraceRing(capacity: 1 << 12)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        #expect(throws: LoopError.self) {
            try loop.run {
                let event = Event(loop: loop)
                _ = try await loop.gather([loop.spawn("waiter") { try await event.wait() }])
            }
        }
        var model = LaneModel(names: loop.names)
        ring.drain { model.apply($0) }
        #expect(model.outcome == .deadlock)
        #expect(model.stuckTasks == ["main awaits waiter#1", "waiter#1 waits on Event#1"])
        var view = Runs.view("stuck")
        view.glyphs = .unicode
        let screen = ScreenLayout.screen(model: model, view: view, width: 120, height: 12).text
        #expect(screen.contains("DEADLOCK, nothing can run again: main awaits waiter#1; waiter#1 waits on Event#1"))
        #expect(PlainRun.diagnostics(model).contains("waiter#1 waits on Event#1"))
    }
}
