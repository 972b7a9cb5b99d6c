import Foundation
import Loop
import Testing
import Trace

@Suite("Cancellation, deadlock, other threads")
struct CancellationAndDeadlockTests {
    @Test func cancellingASleepingTaskThrowsIntoItAndItCleansUp() throws {
        var run = VirtualRun()
        try run.run { loop in
            let sleeper = loop.spawn("sleeper") {
                do {
                    try await loop.sleep(10)
                    loop.print("woke normally")
                } catch is CancelledError {
                    loop.print("cleaning up at \(loop.time)")
                    throw CancelledError()
                }
            }
            try await loop.sleep(0.5)
            #expect(sleeper.cancel())
            do {
                try await sleeper.value
                loop.print("no error")
            } catch is CancelledError {
                loop.print("main saw the cancellation")
            }
            #expect(sleeper.isCancelled)
        }
        #expect(run.output == ["cleaning up at 0.5", "main saw the cancellation"])
        // The cancelled sleep's timer never fires, so the run ends at 0.5 s, not 10.
        #expect(run.schedule.last == "0.500 done main")
        let done = try #require(run.records.first { $0.kind == .taskDone })
        #expect(done.detail(as: TaskOutcome.self) == .cancelled)
    }

    @Test func aTaskCancelledBeforeItsFirstSliceEndsWithoutRunningItsBody() throws {
        var run = VirtualRun()
        try run.run { loop in
            let task = loop.spawn("never") { loop.print("body ran") }
            task.cancel()
            _ = try? await task.value
        }
        #expect(run.output.isEmpty)
    }

    @Test func waitingOnAnEventNobodySetsIsADeadlockNamingTheStuckTasks() throws {
        var run = VirtualRun()
        #expect(throws: LoopError.deadlock(stuck: [
            .init(name: "main", waitingFor: "awaiting waiter#1"),
            .init(name: "waiter#1", waitingFor: "waiting on Event#1"),
        ])) {
            try run.run { loop in
                let event = Event(loop: loop)
                try await loop.gather([loop.spawn("waiter") { try await event.wait() }])
            }
        }
        #expect(run.records.last?.kind == .runFinished)
        #expect(run.records.last?.detail(as: RunOutcome.self) == .deadlock)
    }

    @Test func anotherThreadCanScheduleWorkThroughARemoteHandle() throws {
        var run = VirtualRun()
        try run.run { loop in
            let event = Event(loop: loop)
            let remote = loop.remoteHandle()
            Thread.detachNewThread {
                usleep(20_000)
                remote.callSoon("from-thread") {
                    loop.print("on the loop thread")
                    event.set()
                }
            }
            try await event.wait()
            loop.print("main woken")
        }
        #expect(run.output == ["on the loop thread", "main woken"])
        #expect(run.scheduleKindsAndNames == ["step main", "call from-thread", "step main", "done main"])
    }

    @Test func tasksLeftBehindByMainAreCancelledAsAsyncioRunDoes() throws {
        var run = VirtualRun()
        try run.run { loop in
            _ = loop.spawn("forever") {
                do { try await loop.sleep(1000) } catch {
                    loop.print("forever cancelled")
                    throw error
                }
            }
            try await loop.sleep(0)
        }
        #expect(run.output == ["forever cancelled"])
    }
}
