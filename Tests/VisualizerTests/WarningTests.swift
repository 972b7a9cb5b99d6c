import Loop
import Scenarios
import Testing
import Trace
@testable import Visualizer

/// Warnings the model raises on its own: starved tasks, lost wake-ups.
@Suite("Warnings")
struct WarningTests {
    /// A program given as a closure, run like a scenario.
    struct Program: Scenario {
        static let name = "program"
        static let summary = "a test program"
        let body: @Sendable (EventLoop) async throws -> Void
        func main(on loop: EventLoop) async throws { try await body(loop) }
    }

    @Test func aTaskReadyLongWhileOthersRanIsStarved() throws {
        let model = try Runs.model(BlockingScenario())
        let starved = model.warnings.filter { if case .starved = $0.kind { true } else { false } }
        #expect(starved.map { model.names.name($0.who) } == ["ticker#1", "ticker#2"])
        #expect(starved.first?.time == 200_000_000)  // from its deadline on, it was ready
        #expect(starved.first?.text == "was ready 450 ms before it could run: the loop was busy with others (starved)")
        #expect(model.log.contains { $0.isDiagnostic && $0.text.hasSuffix("(starved)") })
        #expect(try Runs.model(CountScenario()).warnings.isEmpty)
    }

    @Test func aLockWhoseHolderFinishedWithoutReleasingIsALostWakeUp() throws {
        let model = try Runs.model(Program { loop in
            let lock = Lock(loop: loop)
            let careless = loop.spawn("careless") { try await lock.acquire() }  // never releases
            let waiter = loop.spawn("waiter") { try await lock.acquire() }
            let busy = loop.spawn("busy") { for _ in 0..<3 { try await loop.sleep(0.1) } }
            try await careless.value
            try await busy.value
            waiter.cancel()
        })
        let lost = try #require(model.warnings.first)
        #expect(model.names.name(lost.who) == "waiter#1")
        #expect(lost.text == "waits on Lock#1, held by careless#1, which finished without releasing it: a lost wake-up")
        #expect(model.warnings.count == 1)
    }

    @Test func aConsumerWhoseProducersAllFinishedIsALostWakeUp() throws {
        // main awaits the consumer and the only producer has finished: no live task can put again.
        let model = try Self.modelOfStuckRun(Program { loop in
            let queue = Queue<Int>(loop: loop)
            let consumer = loop.spawn("consumer") { for _ in 0..<3 { _ = try await queue.get() } }
            let producer = loop.spawn("producer") { for item in 0..<2 { try await queue.put(item) } }
            try await producer.value
            try await consumer.value  // never: the loop finds nothing can run again
        })
        let lost = try #require(model.warnings.first)
        #expect(model.names.name(lost.who) == "consumer#1")
        #expect(lost.text.hasPrefix("waits on Queue#1 not empty, but every task that used it (producer#1) has finished"))
        #expect(model.warnings.count == 1)
        // On the consumer's lane and in the log too.
        let lane = try #require(model.lanes.first { $0.name == "consumer#1" })
        #expect(model.markers(of: lane).contains { if case .warning(.lostWakeup) = $0.kind { true } else { false } })
        #expect(model.log.contains { $0.isDiagnostic && $0.text == lost.text })
        // A consumer fed until the end is not flagged.
        #expect(try Runs.model(QueueScenario()).warnings.isEmpty)
        #expect(try Runs.model(EventScenario()).warnings.isEmpty)
        #expect(try Runs.model(LockScenario()).warnings.isEmpty)
    }

    @Test func aProducerThatHasNotPutYetCanStillWakeTheConsumer() throws {
        // The audit's fp.py: producer1 puts once and ends while the consumer waits for a second
        // item; producer2, asleep meanwhile, has not touched the queue yet and puts later. Every
        // task that had used the queue had finished, but a live one could still reach it.
        let model = try Runs.model(Program { loop in
            let queue = Queue<Int>(loop: loop)
            let consumer = loop.spawn("consumer") { for _ in 0..<2 { _ = try await queue.get() } }
            let producer1 = loop.spawn("producer1") { try await queue.put(1) }
            let producer2 = loop.spawn("producer2") {
                try await loop.sleep(0.3)
                try await queue.put(2)
            }
            for task in [consumer, producer1, producer2] { try await task.value }
        })
        #expect(model.warnings.isEmpty, "\(model.warnings.map(\.text))")
        #expect(model.outcome == .ok)
    }

    @Test func aTaskStillRunningKeepsTheRuleQuietEvenIfItNeverComes() throws {
        // main sleeps, then cancels the consumer: it could have put instead, and the trace cannot
        // tell which, so no warning (the rule is conservative).
        let model = try Runs.model(Program { loop in
            let queue = Queue<Int>(loop: loop)
            let consumer = loop.spawn("consumer") { for _ in 0..<3 { _ = try await queue.get() } }
            let producer = loop.spawn("producer") { for item in 0..<2 { try await queue.put(item) } }
            try await producer.value
            try await loop.sleep(0.5)
            consumer.cancel()
        })
        #expect(model.warnings.isEmpty, "\(model.warnings.map(\.text))")
    }

    /// The model of a program the loop stops as deadlocked.
    static func modelOfStuckRun(_ program: Program) throws -> LaneModel {
        let ring = TraceRing(capacity: 1 << 14)
        let loop = EventLoop(clock: VirtualClock(), ring: ring)
        #expect(throws: (any Error).self) { try program.run(on: loop) }
        var model = LaneModel(names: loop.names)
        ring.drain { model.apply($0) }
        return model
    }
}

extension WarningTests {
    @Test func theWarningJumpsStopAtStarvedTasksToo() throws {
        let model = try Runs.model(BlockingScenario())
        let starvedSteps = Set(model.warnings.map(\.step))
        #expect(!starvedSteps.isEmpty)
        #expect(starvedSteps.isSubset(of: Set(model.warningSteps)))
    }
}

extension WarningTests {
    @Test func aSlowStepSaysSoAtTheStartOfItsDescription() throws {
        let model = try Runs.model(BlockingScenario())
        let slow = try #require(model.slowSteps.first)
        #expect(StepDescription.describe(step: slow.step, in: model).hasPrefix("t=0.150 step blocker#1 (held the loop 500 ms):"))
    }
}
