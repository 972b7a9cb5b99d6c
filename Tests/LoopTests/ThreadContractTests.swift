import Foundation
import Synchronization
import Testing
@testable import Loop

/// The thread contract covers what a program reads, not only what it calls: each loop-only
/// accessor and fast path works on the loop thread and, in a debug build, traps on another
/// (as `spawn` and `callSoon` do).
@Suite("Thread contract")
struct ThreadContractTests {
    /// One read of the loop's state that must happen on the loop thread.
    enum Access: String, CaseIterable, Codable, Sendable, CustomTestStringConvertible {
        case queueCount, queueIsEmpty, queueIsFull
        case semaphoreIsLocked, semaphoreValue, lockIsLocked, eventIsSet
        case readerBufferedCount, readerAtEOF
        case writerBufferedCount, writerIsClosing, writerLocalAddress, writerPeerAddress, serverIsServing
        case taskIsDone, taskIsCancelled, valueOfAFinishedTask, gatherOfFinishedTasks

        var testDescription: String { rawValue }

        /// Performs the read (its result does not matter, only where it runs).
        func perform(on things: Things) async throws {
            switch self {
            case .queueCount: _ = things.queue.count
            case .queueIsEmpty: _ = things.queue.isEmpty
            case .queueIsFull: _ = things.queue.isFull
            case .semaphoreIsLocked: _ = things.semaphore.isLocked
            case .semaphoreValue: _ = things.semaphore.value
            case .lockIsLocked: _ = things.lock.isLocked
            case .eventIsSet: _ = things.event.isSet
            case .readerBufferedCount: _ = things.reader.bufferedCount
            case .readerAtEOF: _ = things.reader.atEOF
            case .writerBufferedCount: _ = things.writer.bufferedCount
            case .writerIsClosing: _ = things.writer.isClosing
            case .writerLocalAddress: _ = things.writer.localAddress
            case .writerPeerAddress: _ = things.writer.peerAddress
            case .serverIsServing: _ = things.server.isServing
            case .taskIsDone: _ = things.task.isDone
            case .taskIsCancelled: _ = things.task.isCancelled
            case .valueOfAFinishedTask: _ = try await things.task.value
            case .gatherOfFinishedTasks: _ = try await things.loop.gather([things.task])
            }
        }
    }

    /// Control: on the loop thread every read works, so a trap below is the thread check's.
    @Test(arguments: Access.allCases) func onTheLoopThreadTheReadWorks(_ access: Access) throws {
        var run = VirtualRun()
        try run.run { loop in
            let things = try await Things.make(on: loop)
            try await access.perform(on: things)
            things.finish()
        }
    }

    #if DEBUG
    /// In a child process (an exit test), since the check traps; its message says which rule.
    @Test(arguments: Access.allCases) func fromAnotherThreadTheReadTrapsInDebugBuilds(_ access: Access) async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) { [access] in
            let made = Mutex<Things?>(nil)
            var run = VirtualRun()
            try run.run { loop in
                let things = try await Things.make(on: loop)
                things.finish()
                made.withLock { $0 = things }
            }
            // The run is over; its thread stays the loop's. A detached task runs elsewhere.
            let things = made.withLock { $0 }!
            let done = DispatchSemaphore(value: 0)
            Task.detached {
                try? await access.perform(on: things)
                done.signal()
            }
            // Nothing else may end this process: no teardown, the read was all.
            withExtendedLifetime((run, things)) { done.wait() }
            exit(EXIT_SUCCESS)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("must be called on the loop thread"), "\(stderr.prefix(300))")
    }

    /// On the loop thread, but from a task the loop is not running: a loop run inside a
    /// blocking call of the outer loop's task, whose task awaits the outer loop's event. The
    /// outer loop would park its own task with the inner task's continuation (and it holds
    /// parked tasks unretained), so debug builds trap.
    @Test func aPrimitiveAwaitedFromAnotherLoopsTaskTrapsInDebugBuilds() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            // Without the check the inner loop waits for ever: a watchdog ends the child then,
            // with a success this test does not expect.
            Thread.detachNewThread { sleep(3); exit(EXIT_SUCCESS) }
            let outer = EventLoop(clock: VirtualClock())
            try outer.run {
                let event = Event(loop: outer)
                let inner = EventLoop(clock: VirtualClock())
                try inner.run { try await event.wait() }
            }
            exit(EXIT_SUCCESS)
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("must be awaited from a task of the loop running it"), "\(stderr.prefix(300))")
    }
    #endif
}

/// One of each thing a program reads from, with a finished task. `@unchecked Sendable`: made
/// on the loop thread and handed to another only to check that reading there traps.
final class Things: @unchecked Sendable {
    let loop: EventLoop
    let queue: Loop.Queue<Int>
    let semaphore: Loop.Semaphore
    let lock: Loop.Lock
    let event: Loop.Event
    let server: Server
    let reader: StreamReader
    let writer: StreamWriter
    let task: LoopTask<Int>

    private init(loop: EventLoop, server: Server, reader: StreamReader, writer: StreamWriter, task: LoopTask<Int>) {
        self.loop = loop
        queue = Loop.Queue(loop: loop, maxsize: 1)
        semaphore = Loop.Semaphore(loop: loop)
        lock = Loop.Lock(loop: loop)
        event = Loop.Event(loop: loop)
        self.server = server
        self.reader = reader
        self.writer = writer
        self.task = task
    }

    static func make(on loop: EventLoop) async throws -> Things {
        let server = try await loop.startServer(host: "127.0.0.1", port: 0) { reader, writer in
            _ = try await reader.read()
            writer.close()
        }
        let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: server.port)
        let task = loop.spawn("finished") { 42 }
        _ = try await task.value
        return Things(loop: loop, server: server, reader: reader, writer: writer, task: task)
    }

    /// Closes the connection and the server, so that the run ends.
    func finish() {
        writer.close()
        server.close()
    }
}
