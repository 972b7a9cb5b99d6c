#if canImport(Glibc)
import Glibc
#endif
import Trace

/// Where a loop is in its life. Readable from any thread through ``EventLoop/state``.
public enum LoopState: UInt8, Sendable, CaseIterable {
    /// Created, not running yet: whoever created it sets it up (one thread at a time).
    case idle
    /// ``EventLoop/run(_:_:)`` is executing on the loop thread.
    case running
    /// ``EventLoop/stop()`` was called: the current pass ends, then every task is cancelled and
    /// given a few passes to clean up, and `run` throws ``LoopError/stopped``.
    case stopping
    /// ``EventLoop/close()`` released the selector and every socket: nothing runs on it again.
    case closed
}

// MARK: - Lifecycle

extension EventLoop {
    /// The loop's state. Thread-safe.
    public var state: LoopState {
        LoopState(rawValue: lifecycle.load(ordering: .acquiring)) ?? .closed
    }

    /// Whether ``stop()`` was called and the loop is winding down. Thread-safe.
    var isStopping: Bool {
        lifecycle.load(ordering: .relaxed) == LoopState.stopping.rawValue
    }

    /// Asks a running loop to stop (asyncio's `loop.stop()`, also from another thread): the pass
    /// under way ends, every task is cancelled and gets a bounded number of passes to run its
    /// clean-up, then ``run(_:_:)`` throws ``LoopError/stopped``. A loop that has not started
    /// yet stops as soon as it starts. Thread-safe; does nothing on a loop that has ended.
    public func stop() {
        var current = lifecycle.load(ordering: .acquiring)
        while current == LoopState.idle.rawValue || current == LoopState.running.rawValue {
            let (exchanged, original) = lifecycle.compareExchange(
                expected: current, desired: LoopState.stopping.rawValue, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        selector?.wakeup.signal()
    }

    /// Closes every socket still open and the selector (its epoll fd and eventfd). ``run(_:_:)``
    /// calls it when it returns; call it yourself for a loop that never ran. Idempotent. Call it
    /// on the loop thread (or, for a loop that never ran, on the thread that owns it).
    public func close() {
        // asyncio: "Cannot close a running event loop". A task (or another thread) closing the
        // loop under run() would pull the selector away from it: refuse, loudly in debug builds.
        let current = state
        guard current != .running && current != .stopping else {
            assertionFailure("close() of a running EventLoop: call stop() and let run() return")
            return
        }
        closeNow()
    }

    /// Closes whatever the state: what ``run(_:_:)`` does when it returns.
    func closeNow() {
        guard lifecycle.exchange(LoopState.closed.rawValue, ordering: .acquiringAndReleasing) != LoopState.closed.rawValue else { return }
        closeOpenSockets()
        selector?.close()
    }

    /// Closes the sockets the program left open (a server nobody closed, a connection a
    /// cancelled task held), each with an `ioClosed` record.
    func closeOpenSockets() {
        for socket in openSockets.values.sorted(by: { $0.entity < $1.entity }) {
            closeSocket(socket, reason: .loopClosed, by: .none)
        }
    }
}

// MARK: - The thread contract

extension EventLoop {
    /// Whether the caller runs on the loop thread (false before ``run(_:_:)`` starts).
    var isLoopThread: Bool {
        let id = loopThreadID.load(ordering: .relaxed)
        // `pthread_equal` is `==` in glibc: compared here, without its call.
        return id != 0 && UInt(pthread_self()) == id
    }

    /// Debug builds: traps unless called on the loop thread (or before the loop runs, when its
    /// creator sets it up). SwiftNIO's `assertInEventLoop`; compiled out of release builds.
    @inline(__always)
    func assertInLoop(_ function: StaticString = #function) {
        assert(loopThreadID.load(ordering: .relaxed) == 0 || isLoopThread, "\(function) must be called on the loop thread")
    }

    /// Debug builds: traps unless the Swift task running now is `box`'s, the task whose slice
    /// the loop is running. A primitive awaited from another task (one of another loop, run
    /// inside a blocking call of this loop's task) would park this loop's task with that task's
    /// continuation, and the loop holds parked tasks unretained.
    @inline(__always)
    func assertRunning(_ box: TaskBox, _ function: StaticString = #function) {
        #if DEBUG
        let running = withUnsafeCurrentTask { task in task.map { unsafeBitCast($0, to: UnsafeRawPointer.self) } }
        assert(running == box.pointer, "\(function): a loop primitive must be awaited from a task of the loop running it")
        #endif
    }

    /// The pointer that identifies a Swift task to the loop, so that a job resuming a task maps
    /// to that task's ``TaskBox``. Sound because in the Swift runtime a task *is* its job
    /// (`AsyncTask` derives from `Job`): the `UnownedJob` the runtime enqueues to resume a task
    /// and the `Task` handle are both one pointer to that same heap object, which the runtime
    /// keeps alive until the task's last slice; the loop forgets the pointer right after it.
    @inline(__always)
    static func taskIdentity(of job: UnownedJob) -> UnsafeRawPointer {
        unsafeBitCast(job, to: UnsafeRawPointer.self)
    }

    /// See ``taskIdentity(of:)-(UnownedJob)``.
    static func taskIdentity<Success, Failure>(of task: Task<Success, Failure>) -> UnsafeRawPointer {
        unsafeBitCast(task, to: UnsafeRawPointer.self)
    }
}

/// The loop running on this thread, for the entry point of its tasks (see
/// ``EventLoop/taskEntry()``): a thread-local, as several loops may run at once on different
/// threads, and a loop may run inside a blocking call of another loop's task.
enum LoopThreadLocal {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    /// Unretained: a loop sets itself for the time of ``EventLoop/run(_:_:)`` and restores what
    /// was there before it returns.
    static var loop: EventLoop? {
        get { pthread_getspecific(key).map { Unmanaged<EventLoop>.fromOpaque($0).takeUnretainedValue() } }
        set { pthread_setspecific(key, newValue.map { Unmanaged.passUnretained($0).toOpaque() }) }
    }
}
