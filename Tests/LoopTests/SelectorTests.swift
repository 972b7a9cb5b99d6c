import Foundation
import Testing
import Trace
@testable import Loop

/// The selector's rules: how long a pass may wait, in which order ready fds run, what
/// cancelling a wait and stopping the loop from another thread do. Virtual clock, pipes.
@Suite("Selector rules")
struct SelectorTests {
    // MARK: - The poll timeout (pure)

    @Test func nothingWaitsWhileWorkIsReadyOrTheLoopStops() {
        let clock = RealClock()
        #expect(PollTimeout.compute(hasReadyWork: true, stopping: false, nextDeadline: 5_000_000_000, now: 0, clock: clock) == .now)
        #expect(PollTimeout.compute(hasReadyWork: false, stopping: true, nextDeadline: nil, now: 0, clock: clock) == .now)
    }

    @Test func withoutATimerThePollBlocks() {
        #expect(PollTimeout.compute(hasReadyWork: false, stopping: false, nextDeadline: nil, now: 0, clock: RealClock()) == .block)
        #expect(PollTimeout.block.epollMilliseconds == -1)
    }

    @Test func theWaitIsRoundedUpToWholeMillisecondsAsEpollSelectorRoundsIt() {
        let clock = RealClock()
        func timeout(_ remaining: Int64) -> PollTimeout {
            PollTimeout.compute(hasReadyWork: false, stopping: false, nextDeadline: 1_000_000_000 + remaining, now: 1_000_000_000, clock: clock)
        }
        #expect(timeout(5_000_000) == .milliseconds(5))
        #expect(timeout(5_000_001) == .milliseconds(6))  // never wake before the timer is due
        #expect(timeout(1) == .milliseconds(1))
        #expect(timeout(0) == .now)
        #expect(timeout(-3_000_000) == .now)  // overdue
    }

    @Test func aSlowedClockWaitsLongerInWallTime() {
        // --speed 0.25: a loop second lasts four wall seconds.
        let timeout = PollTimeout.compute(hasReadyWork: false, stopping: false, nextDeadline: 10_000_000, now: 0, clock: RealClock(speed: 0.25))
        #expect(timeout == .milliseconds(40))
    }

    // MARK: - Readiness on the loop

    @Test func readyFdsRunInTheOrderTheyBecameReadyNotTheOrderTheyWereWatched() throws {
        let first = try Pipe.make(), second = try Pipe.make()
        defer { first.close(); second.close() }
        var run = VirtualRun()
        try run.run { loop in
            let readers = [("first", first), ("second", second)].map { name, pipe in
                loop.spawn(name) {
                    try await loop.waitReadable(pipe.read)
                    loop.print("\(name) readable")
                }
            }
            try await loop.sleep(0)  // both now wait, `first` registered first
            second.write("x")
            first.write("x")
            _ = try await loop.gather(readers)
        }
        #expect(run.output == ["second readable", "first readable"])
    }

    @Test func aTaskWokenByIOResumesOnThePassAfterTheFdIsHandled() throws {
        let pipe = try Pipe.make()
        defer { pipe.close() }
        var run = VirtualRun()
        try run.run { loop in
            let reader = loop.spawn("reader") {
                try await loop.waitReadable(pipe.read)
                loop.print("woken at \(loop.time)")
            }
            try await loop.sleep(1.5)
            pipe.write("x")
            try await reader.value
        }
        // Virtual time did not jump past the I/O: the reader ran at 1.5 s, not later.
        #expect(run.output == ["woken at 1.5"])
        let kinds = run.records.map(\.kind)
        let ready = try #require(kinds.firstIndex(of: .ioReady))
        #expect(kinds[ready...].contains(.taskReady))
        let woken = run.records.first { $0.kind == .taskReady && $0.detail(as: ReadyCause.self) == .io }
        #expect(woken.map { run.loop.names.name($0.subject) } == "reader#1")
    }

    @Test func cancellingAWaitUnwatchesTheFd() throws {
        let pipe = try Pipe.make()
        defer { pipe.close() }
        var run = VirtualRun()
        try run.run { loop in
            let waiter = loop.spawn("waiter") {
                do {
                    try await loop.waitReadable(pipe.read)
                    loop.print("read")
                } catch is CancelledError {
                    loop.print("cancelled")
                    throw CancelledError()
                }
            }
            try await loop.sleep(0)
            #expect(loop.ioRegistrations[pipe.read]?.reader != nil)
            waiter.cancel()
            try await loop.sleep(0)
            #expect(loop.ioRegistrations[pipe.read] == nil)
            pipe.write("x")  // nobody is woken by it any more
            try await loop.sleep(1)
            #expect(waiter.isCancelled)
        }
        #expect(run.output == ["cancelled"])
    }

    @Test func stopFromAnotherThreadEndsARunBlockedInTheSelector() throws {
        let pipe = try Pipe.make()
        defer { pipe.close() }
        var run = VirtualRun()
        let loop = run.loop
        let stopper = Thread {
            usleep(50_000)
            loop.stop()
        }
        stopper.start()
        #expect(throws: LoopError.stopped) {
            try run.run { loop in
                do {
                    try await loop.waitReadable(pipe.read)  // no timer, nothing written: blocks
                } catch is CancelledError {
                    loop.print("cleaned up")
                    throw CancelledError()
                }
            }
        }
        #expect(run.output == ["cleaned up"])
        #expect(loop.state == .closed)
        #expect(run.records.last?.kind == .runFinished)
        #expect(run.records.last?.detail(as: RunOutcome.self) == .stopped)
    }

    @Test func aSecondReaderOfTheSameFdIsRefusedNotSwapped() throws {
        let pipe = try Pipe.make()
        defer { pipe.close() }
        var run = VirtualRun()
        try run.run { loop in
            let first = loop.spawn("first") { try await loop.waitReadable(pipe.read) }
            try await loop.sleep(0)
            await #expect(throws: SocketError.alreadyWaiting(operation: "read")) {
                try await loop.waitReadable(pipe.read)
            }
            pipe.write("x")
            try await first.value
        }
    }

    // MARK: - Timers

    @Test func cancelledTimersAreCompactedWhenMoreThanHalfTheHeap() throws {
        var run = VirtualRun()
        try run.run { loop in
            let handles = (0..<300).map { index in loop.callLater(10 + Double(index), "_t") {} }
            for handle in handles.prefix(200) { handle.cancel() }
            #expect(loop.timers.count == 300)
            try await loop.sleep(0)  // a pass: asyncio's rule rebuilds the heap
            #expect(loop.timers.count == 100)
            for handle in handles.suffix(100) { handle.cancel() }
        }
    }
}

/// A non-blocking pipe for readiness tests.
struct Pipe {
    let read: Int32
    let write: Int32

    static func make() throws -> Pipe {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return Pipe(read: fds[0], write: fds[1])
    }

    func write(_ text: String) {
        _ = text.withCString { Glibc.write(self.write, $0, strlen($0)) }
    }

    func close() {
        Glibc.close(read)
        Glibc.close(write)
    }
}
