import Loop
import Testing
import Trace

@Suite("Event and gather")
struct EventAndGatherTests {
    @Test func setWakesEveryWaiterInTheOrderTheyWaited() throws {
        var run = VirtualRun()
        try run.run { loop in
            let event = Event(loop: loop)
            let waiters = ["w3", "w1", "w2"].map { name in
                loop.spawn(name) {
                    try await event.wait()
                    loop.print(name)
                }
            }
            loop.callLater(1, "setter") { event.set() }
            _ = try await loop.gather(waiters)
        }
        #expect(run.output == ["w3", "w1", "w2"])
        let set = try #require(run.records.first { $0.kind == .eventSet })
        #expect(run.loop.names.name(set.subject) == "Event#1")
        #expect(run.loop.names.name(set.other) == "setter")
        #expect(set.value == 3)
    }

    @Test func waitOnASetEventReturnsWithoutSuspendingAndClearMakesItWaitAgain() throws {
        var run = VirtualRun()
        try run.run { loop in
            let event = Event(loop: loop)
            event.set()
            try await event.wait()  // no suspension: still the first slice
            loop.print("passed set event: \(event.isSet)")
            event.clear()
            loop.print("cleared: \(event.isSet)")
            loop.callLater(0.5, "setter") { event.set() }
            try await event.wait()
            loop.print("woken at \(loop.time)")
        }
        #expect(run.output == ["passed set event: true", "cleared: false", "woken at 0.5"])
        #expect(run.scheduleKindsAndNames == ["step main", "timer setter", "step main", "done main"])
        #expect(run.records.contains { $0.kind == .eventCleared })
    }

    @Test func gatherReturnsResultsInTheOrderGivenNotTheOrderFinished() throws {
        var run = VirtualRun()
        let results = try run.run { loop in
            let tasks = [3.0, 1.0, 2.0].map { delay in
                loop.spawn("job") { () -> Double in
                    try await loop.sleep(delay)
                    return delay
                }
            }
            return try await loop.gather(tasks)
        }
        #expect(results == [3.0, 1.0, 2.0])
    }

    @Test func gatherThrowsTheFirstErrorAndTheTaskRecordsItsOutcome() throws {
        struct Boom: Error, Equatable {}
        var run = VirtualRun()
        #expect(throws: Boom.self) {
            try run.run { loop in
                let ok = loop.spawn("ok") { try await loop.sleep(2) }
                let bad = loop.spawn("bad") {
                    try await loop.sleep(1)
                    throw Boom()
                }
                _ = try await loop.gather([ok, bad])
            }
        }
        let done = run.records.filter { $0.kind == .taskDone }.map {
            "\(run.loop.names.name($0.subject)) \($0.detail(as: TaskOutcome.self)!)"
        }
        // bad fails at 1 s and main sees it; ok is cancelled by the final clean-up, like asyncio.run.
        #expect(done == ["bad#1 error", "main error", "ok#1 cancelled"])
    }

    @Test func awaitingATaskValueWakesOnePassAfterItFinishes() throws {
        var run = VirtualRun()
        let value = try run.run { loop in
            let child = loop.spawn("child") { () -> Int in
                try await loop.sleep(1)
                return 42
            }
            return try await child.value
        }
        #expect(value == 42)
        #expect(run.scheduleKindsAndNames == ["step main", "step child#1", "timer sleep", "step child#1", "done child#1", "step main", "done main"])
    }
}
