import Loop
import Testing
import Trace

/// Ordering rules of the loop, on virtual time, with exact sequences.
@Suite("Scheduling order")
struct SchedulingTests {
    @Test func readyTasksRunInFIFOOrderAndSleepZeroYieldsATurn() throws {
        var run = VirtualRun()
        try run.run { loop in
            let tasks = ["a", "b", "c"].map { name in
                loop.spawn(name) {
                    for i in 1...2 {
                        loop.print("\(name)\(i)")
                        try await loop.sleep(0)
                    }
                }
            }
            _ = try await loop.gather(tasks)
        }
        #expect(run.output == ["a1", "b1", "c1", "a2", "b2", "c2"])
        #expect(run.scheduleKindsAndNames == [
            "step main", "step a#1", "step b#1", "step c#1", "step a#1", "step b#1", "step c#1",
            "step a#1", "done a#1", "step b#1", "done b#1", "step c#1", "done c#1", "step main", "done main",
        ])
    }

    @Test func timersWithEqualDeadlinesFireInTheOrderTheyWereScheduled() throws {
        var run = VirtualRun()
        try run.run { loop in
            loop.callLater(1, "first") { loop.print("first") }
            loop.callLater(0.5, "early") { loop.print("early") }
            loop.callLater(1, "second") { loop.print("second") }
            loop.callSoon("soon") { loop.print("soon") }
            try await loop.sleep(2)
        }
        #expect(run.output == ["soon", "early", "first", "second"])
        #expect(run.schedule == [
            "0.000 step main", "0.000 call soon", "0.500 timer early", "1.000 timer first",
            "1.000 timer second", "2.000 timer sleep", "2.000 step main", "2.000 done main",
        ])
    }

    @Test func aCancelledCallbackNeverRuns() throws {
        var run = VirtualRun()
        try run.run { loop in
            let handle = loop.callLater(1, "never") { loop.print("never") }
            loop.callLater(0.5, "canceller") { handle.cancel() }
            try await loop.sleep(2)
        }
        #expect(run.output.isEmpty)
        #expect(!run.scheduleKindsAndNames.contains("timer never"))
    }

    @Test func oneSliceWritesResumedThenSuspendedWithItsReason() throws {
        var run = VirtualRun()
        try run.run { loop in try await loop.sleep(1) }
        #expect(run.trace() == [
            "taskSpawned main", "taskReady main", "taskResumed main", "timerScheduled main", "taskSuspended main",
            "loopIdle -", "timerDue main", "timerFired main", "taskReady main", "taskResumed main", "taskDone main", "runFinished main",
        ])
        let suspended = try #require(run.records.first { $0.kind == .taskSuspended })
        #expect(suspended.detail(as: SuspendReason.self) == .sleep)
        #expect(suspended.value == 1_000_000_000)
        #expect(suspended.state == .sleeping)
        let woken = try #require(run.records.last { $0.kind == .taskReady })
        #expect(woken.detail(as: ReadyCause.self) == .timer)
    }

    @Test func spawnRecordsTheParentAndNamesAreNumberedPerFunction() throws {
        var run = VirtualRun()
        try run.run { loop in
            _ = try await loop.gather([loop.spawn("work") {}, loop.spawn("work") {}, loop.spawn("other") {}])
        }
        let spawns = run.records.filter { $0.kind == .taskSpawned }
        #expect(spawns.map { run.loop.names.name($0.subject) } == ["main", "work#1", "work#2", "other#1"])
        #expect(spawns.dropFirst().allSatisfy { run.loop.names.name($0.other) == "main" })
        #expect(spawns.first?.other == EntityID.none)
    }

    @Test func blockingCallAdvancesVirtualTimeAndDelaysOtherTimers() throws {
        var run = VirtualRun()
        try run.run { loop in
            let ticker = loop.spawn("ticker") {
                try await loop.sleep(0.1)
                loop.print("tick at \(loop.time)")
            }
            let blocker = loop.spawn("blocker") { loop.blockingCall(0.5) }
            _ = try await loop.gather([ticker, blocker])
        }
        #expect(run.output == ["tick at 0.5"])
    }
}
