#if canImport(Glibc)
import Glibc
#endif
import CLoopSystem
import HeapModule
import Synchronization
import Trace

/// A single-thread event loop in the style of asyncio's `BaseEventLoop`, running real Swift
/// `async` code: it is the `TaskExecutor` of every task it spawns, so their slices run here,
/// one at a time, on the thread that called ``run(_:_:)``.
///
/// Thread contract: everything but the cross-thread entry points (``RemoteHandle``, ``stop()``,
/// ``state``, the runtime's `enqueue` from another thread) must be used on the loop thread, from
/// tasks and callbacks it runs; debug builds check it at every loop-only entry point
/// (``assertInLoop(_:)``). `@unchecked Sendable` is sound because of that contract: the mutable
/// fields below are touched by the loop thread only, and the cross-thread ones are a `Mutex`
/// and atomics.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    /// The loop's time source: ``RealClock`` or ``VirtualClock``.
    public let clock: any LoopClock
    /// Names of tasks, callbacks, primitives and output lines, referenced by trace records.
    public let names: NameTable
    /// Where the trace goes; nil runs the loop untraced.
    public let ring: TraceRing?
    /// ``ring`` again, for ``emit`` to use without a retain and release around every record
    /// (they were a fifth of a traced task switch's own cost). Sound: ``ring`` is a `let` that
    /// holds the same object for the loop's whole life.
    private let unretainedRing: Unmanaged<TraceRing>?
    /// When set, asked before every scheduling step (task slice, timer fire, callback); it may
    /// block the loop thread, which is how step-through mode works.
    @exclusivity(unchecked) public var stepGate: (any StepGate)?
    /// Receives each line the program prints through ``print(_:)``, with who printed it.
    public var onOutput: ((String, EntityID) -> Void)?

    // MARK: - Loop-thread state
    //
    // The hot fields are `@exclusivity(unchecked)`: only the loop thread touches them, never
    // through overlapping accesses, and the runtime's dynamic exclusivity bookkeeping showed up
    // in the profile of every task switch.

    @exclusivity(unchecked) var ready = ReadyQueue()
    var timers = Heap<TimerEntry>()
    var timerSequence: UInt32 = 0
    /// The last sequence number handed out before the timers are renumbered (lower in tests).
    var timerSequenceLimit = UInt32.max
    /// Tasks not finished yet, by the pointer their runtime jobs carry (also for deadlock reports
    /// and asyncio.run's final clean-up, which order them by id). One table, not two, of 8-byte
    /// entries: every entry is paid by each task.
    var liveTasks = TaskTable()
    /// Who is told when a task finishes (gather, awaiting a task, a server's done-callback), by
    /// task: kept here, not in every task's box, as most tasks have none (a sleeping task pays
    /// nothing for it). A task with an entry has ``TaskBox/hasObservers`` set.
    var observers: [EntityID: ObserverList] = [:]
    /// Set while ``spawn(_:_:)`` creates a Swift task: the first job the runtime enqueues then is
    /// that task's, which is not in ``liveTasks`` yet (no lookup to make).
    @exclusivity(unchecked) var spawning = false
    /// Per coroutine name, how many tasks had it: `count#1`, `count#2`, ...
    var nameCounts: [String: Int] = [:]
    var callbackIDs: [String: EntityID] = [:]
    var primitiveCounts: [String: Int] = [:]
    /// The task whose slice is running, if any. Unretained (a retain and a release a switch
    /// otherwise, and another pair in `sleep` reading it): set only during the slice, while the
    /// task table holds the box.
    @exclusivity(unchecked) var current: Unmanaged<TaskBox>?
    /// What the `taskSuspended` record of the slice under way carries (a deadline, an I/O
    /// operation), set where the task suspends; 0 when it suspends outside the loop's primitives.
    @exclusivity(unchecked) var suspensionValue: Int64 = 0
    /// Who is running now (a task or a callback): the "who" of records made meanwhile.
    @exclusivity(unchecked) var currentActor: EntityID = .none
    /// The loop time of the current step: one clock read serves every record the step writes.
    @exclusivity(unchecked) var now: Int64 = 0
    /// Reads a step's end off the CPU's counter between the passes' clock reads, where sound.
    @exclusivity(unchecked) var stepClock: StepClock
    /// ``clock`` when it is a ``LiveClock``: the step clock checks that it has not frozen.
    let liveClock: LiveClock?
    /// While the loop resumes a continuation, the runtime's synchronous `enqueue` of that task's
    /// job is caught here and the job runs at once, in the same pass, instead of a pass later.
    @exclusivity(unchecked) var capturingInlineJob = false
    @exclusivity(unchecked) var inlineJob: UnownedJob?
    /// The task table's reference to the last task that finished, kept until the pass ends:
    /// the dispatch that ran its last slice borrowed the box unretained (a `.resume` item's),
    /// and the table's may be the last reference. Released once a pass, off the hot path.
    @exclusivity(unchecked) var finishedInPass: TaskBox?
    /// `asUnownedTaskExecutor()`, made once in `init` (never nil after it): each call looked up
    /// the loop's conformance and went through the runtime, at every task slice.
    @exclusivity(unchecked) private var executorReference: UnownedTaskExecutor?
    /// Every transport's reads land here first (see `Transport.readReady`); made at the first read.
    @exclusivity(unchecked) var receiveBuffer: [UInt8] = []
    /// The thread that runs the loop (0 before ``run(_:_:)``). Atomic: `enqueue` reads it on any
    /// thread to decide between the ready queue and the inbox.
    let loopThreadID = Atomic<UInt>(0)
    /// Counts suspensions, so the debug snapshot lists a primitive's waiters in the order they
    /// began to wait (as a reader of the trace sees them). Debug builds only, as
    /// ``TaskBox/suspendedAt``.
    var suspensionCount: UInt32 = 0
    /// Who holds each lock or semaphore place (asyncio does not track it; the trace and the
    /// state panel show it).
    var holders: [EntityID: [EntityID]] = [:]
    /// Items in each queue.
    var queueSizes: [EntityID: Int] = [:]
    /// Debug builds: per lock, semaphore and queue, a read of its real state (places held,
    /// items), so the debug snapshot checks the bookkeeping above against the primitives.
    var primitiveProbes: [EntityID: () -> Int?] = [:]
    /// Timers in the heap that will do nothing (cancelled callbacks, sleeps of cancelled tasks):
    /// the heap is compacted when they are more than half of it (asyncio's rule).
    var deadTimerCount = 0

    // MARK: - I/O (loop thread)

    /// The epoll instance; nil only when it could not be created (then ``run(_:_:)`` throws).
    let selector: Selector?
    private let selectorError: SocketError?
    /// Per fd, who runs when it is readable or writable (asyncio's `_readers` / `_writers`).
    var ioRegistrations: [Int32: IORegistration] = [:]
    /// Every socket opened on this loop and not closed yet, by fd: ``close()`` closes them.
    var openSockets: [Int32: Socket] = [:]
    /// Names for bare fds awaited with ``waitReadable(_:)`` / ``waitWritable(_:)``.
    var fdEntities: [Int32: EntityID] = [:]
    /// One end of a loopback connection whose other end has not been accepted yet, by
    /// "local>peer" address.
    var unpairedTransports: [String: WeakTransport] = [:]
    /// Host names being resolved on other threads: their answers will come through the inbox.
    var pendingResolutions = 0

    // MARK: - Cross-thread state

    let inbox = Mutex<[InboxItem]>([])
    let inboxCount = Atomic<Int>(0)
    let remoteHolds = Atomic<Int>(0)
    /// A ``LoopState`` raw value: written by the loop thread, and by ``stop()`` from any thread.
    let lifecycle = Atomic<UInt8>(LoopState.idle.rawValue)

    /// - Parameters:
    ///   - clock: the time source (``VirtualClock`` for tests and step mode).
    ///   - ring: where trace records go (nil: untraced).
    ///   - names: the name table records refer to.
    public init(clock: any LoopClock = RealClock(), ring: TraceRing? = nil, names: NameTable = NameTable()) {
        self.clock = clock
        self.stepClock = StepClock(clock: clock)
        self.liveClock = clock as? LiveClock
        self.ring = ring
        self.unretainedRing = ring.map { Unmanaged.passUnretained($0) }
        self.names = names
        do {
            selector = try Selector()
            selectorError = nil
        } catch {
            // Out of file descriptors, most likely: said by run(), not by a crash here.
            selector = nil
            selectorError = error
        }
        executorReference = asUnownedTaskExecutor()
    }

    deinit {
        // Forgot close? A loop that ran is closed by run() itself; close the rest here.
        closeNow()
    }

    // MARK: - Running

    /// Runs `body` as the root task (named `main` by default) until it finishes, then cancels
    /// and finishes whatever tasks are left and closes the loop, as `asyncio.run` does. Blocks
    /// the calling thread, which becomes the loop thread.
    /// - Throws: the root task's error; ``LoopError/deadlock(stuck:)`` when nothing can run;
    ///   ``LoopError/stopped`` when ``stop()`` ended the run first.
    public func run<Value: Sendable>(
        _ name: String = "main", _ body: @escaping @Sendable () async throws -> Value
    ) throws -> Value {
        precondition(loopThreadID.load(ordering: .acquiring) == 0, "an EventLoop runs once")
        guard let selector else { throw selectorError ?? SocketError.system(call: "epoll_create1", errno: EMFILE) }
        loopThreadID.store(UInt(pthread_self()), ordering: .releasing)
        let outerLoop = LoopThreadLocal.loop
        LoopThreadLocal.loop = self
        defer {
            closeNow()
            LoopThreadLocal.loop = outerLoop
        }
        _ = lifecycle.compareExchange(expected: LoopState.idle.rawValue, desired: LoopState.running.rawValue, ordering: .acquiringAndReleasing)
        clock.attach(wakeup: selector.wakeup)
        now = clock.now()
        let root = spawn(name, body)
        do {
            while !root.box.finished && !isStopping { try runOnce() }
            if isStopping {
                try windDown()
                throw LoopError.stopped
            }
            // asyncio's run_until_complete stops the loop from the root's done-callback, one
            // pass later: what was ready by then (a handler finishing, say) still runs.
            try runOnce(stopping: true)
            try finishLeftoverTasks()
        } catch {
            let outcome: RunOutcome = if case LoopError.stopped = error { .stopped } else { .deadlock }
            emit(.runFinished, subject: .none, detail: outcome.rawValue)
            throw error
        }
        let result = root.box.result!
        let outcome: RunOutcome = if case .success = result { .ok } else { .error }
        closeOpenSockets()
        emit(.runFinished, subject: root.id, detail: outcome.rawValue)
        return try result.get()
    }

    /// One iteration, as asyncio's `_run_once`: take work from other threads; poll the
    /// selector (without waiting when anything is ready; else up to the next deadline; else
    /// until I/O or another thread wakes the loop) and queue the handlers of ready fds; move due
    /// timers to the ready queue; then run exactly the items that were ready at that point
    /// (what they schedule waits a turn).
    func runOnce(stopping: Bool = false) throws {
        takeInbox()
        dropDeadTimers()
        if ready.isEmpty && !stopping && !isStopping {
            let deadline = timers.min?.deadline
            if deadline == nil && !mayGetWorkFromOutside() {
                throw LoopError.deadlock(stuck: stuckTasks())
            }
            emit(.loopIdle, subject: .none, value: deadline ?? -1)
            waitForWork(until: deadline)
        } else {
            _ = pollAndQueue(.now)
        }
        readClockAtPassStart()
        while let first = timers.min, first.deadline <= now {
            timers.removeMin()
            switch first.action {
            case .wake(let box, let generation) where box.isWaiting(generation: generation):
                ready.append(.sleepTimer(box, generation: generation))
                emit(.timerDue, subject: box.id, detail: TimerPurpose.sleep.rawValue)
            case .callback(let callback) where !callback.cancelled:
                callback.armed = false
                ready.append(.callback(callback))
                emit(.timerDue, subject: callback.id, detail: TimerPurpose.callback.rawValue)
            default:
                deadTimerCount = max(0, deadTimerCount - 1)  // cancelled meanwhile
            }
        }
        var todo = ready.count
        while todo > 0, let item = ready.popFirst() {
            todo -= 1
            // The most common item, a parked task's resumption, without `dispatch`'s frame and
            // jump table (it takes all the registers the other cases need).
            if case .resume(let task, let generation) = item {
                task._withUnsafeGuaranteedRef { resumeParked($0, generation: generation) }
            } else {
                dispatch(item)
            }
        }
        finishedInPass = nil
        releaseReadyQueueStorage()
    }

    // MARK: - The one place that runs work

    /// Runs one ready item. Every task slice, timer fire and callback goes through here (a parked
    /// task's resumption through `resumeParked`, which `runOnce` also calls directly), and so
    /// does every trace record about them.
    func dispatch(_ item: ReadyItem) {
        switch item {
        case .resume(let task, let generation):
            task._withUnsafeGuaranteedRef { resumeParked($0, generation: generation) }
        case .job(let job):
            let pointer = Self.taskIdentity(of: job)
            if let box = liveTasks.box(for: pointer) {
                askGate(.taskSlice, box.id)
                beginSlice(box)
                job.runSynchronously(on: executorReference.unsafelyUnwrapped)
                endSlice(box)
            } else {
                // Not one of our tasks (the runtime's own plumbing): run it, nothing to trace.
                job.runSynchronously(on: executorReference.unsafelyUnwrapped)
            }
        case .relay(let box, let generation, let waker):
            guard box.isWaiting(generation: generation) else { return }
            makeReady(box, generation: generation, cause: .childDone, waker: waker)
        case .sleepTimer(let box, let generation):
            guard box.isWaiting(generation: generation) else { return }
            askGate(.timerFire, box.id)
            emit(.timerFired, subject: box.id, state: box.state)
            makeReady(box, generation: generation, cause: .timer, waker: .none)
        case .io(let handler, let readiness):
            guard !handler.cancelled else { return }  // unregistered since the poll
            askGate(.ioReady, handler.socket)
            emit(.ioReady, subject: handler.socket, value: readiness.rawValue)
            handler.body(readiness)
            now = stepEnd()
        case .plumbing(let body):
            body()
        case .callback(let callback):
            guard !callback.cancelled else { return }
            askGate(.callback, callback.id)
            callback.ran = true
            emit(.callbackStarted, subject: callback.id, detail: callback.origin.rawValue)
            currentActor = callback.id
            callback.body()
            currentActor = .none
            now = stepEnd()
            emit(.callbackFinished, subject: callback.id)
        }
    }

    /// A `.resume` item: a slice of a task parked in one of the loop's primitives, if it still
    /// waits with `generation`. `box` comes unretained (see `ReadyItem.resume`): the task table
    /// holds it.
    private func resumeParked(_ box: TaskBox, generation: UInt32) {
        guard box.isWaiting(generation: generation) else { return }
        askGate(.taskSlice, box.id)
        beginSlice(box)
        let continuation = box.continuation!
        box.continuation = nil
        capturingInlineJob = true
        if box.resumeWithCancellation {
            box.resumeWithCancellation = false
            continuation.resume(throwing: CancelledError())
        } else {
            continuation.resume()
        }
        capturingInlineJob = false
        if let job = inlineJob {
            inlineJob = nil
            job.runSynchronously(on: executorReference.unsafelyUnwrapped)
        }
        endSlice(box)
    }

    /// Before a slice of `box`: it runs. In line, with ``endSlice(_:)``, rather than one
    /// function around the slice's body as a closure (a call through a context, ~40 instructions
    /// a switch).
    @inline(__always)
    private func beginSlice(_ box: TaskBox) {
        box.state = .running
        box.suspendReason = .other
        box.waitingOn = .none
        box.resumeQueued = false
        emit(.taskResumed, subject: box.id, state: .running)
        suspensionValue = 0
        current = Unmanaged.passUnretained(box)
        currentActor = box.id
    }

    /// After a slice of `box`: records how it ended.
    @inline(__always)
    private func endSlice(_ box: TaskBox) {
        current = nil
        currentActor = .none
        now = stepEnd()
        if box.finished {
            finish(box)
        } else {
            // A yield leaves the task ready at once: its suspension record says so (state
            // ready), and no separate taskReady follows — a third fewer records on a busy loop.
            let yielded = box.suspendReason == .yield
            box.state = yielded ? .ready : box.suspendReason.taskState
            #if DEBUG
            suspensionCount &+= 1
            box.suspendedAt = suspensionCount
            #endif
            emit(.taskSuspended, subject: box.id, other: box.waitingOn, value: suspensionValue,
                 detail: box.suspendReason.rawValue, state: box.state)
            if yielded {
                makeReady(box, generation: box.waitGeneration, cause: .yielded, waker: box.id, traced: false)
            }
        }
    }

    @inline(__always)
    private func askGate(_ kind: StepPreview.Kind, _ subject: EntityID) {
        // A nil test in line (no retain of the gate); the rest out of line.
        if stepGate != nil { askGateSlowly(kind, subject) }
    }

    @inline(never)
    private func askGateSlowly(_ kind: StepPreview.Kind, _ subject: EntityID) {
        // A stopping loop winds down without waiting for keys; a gate that lets everything
        // through (the live screen, running) is not asked, and cannot have held the loop.
        guard let stepGate, !isStopping, !stepGate.letsEveryStepThrough else { return }
        stepGate.beforeStep(StepPreview(kind: kind, subject: subject, time: now))
        now = readClock()
    }

    /// Writes one trace record stamped with the current step's time. The only writer of the ring.
    @inline(__always)
    func emit(
        _ kind: TraceKind, subject: EntityID, other: EntityID = .none, value: Int64 = 0,
        detail: UInt8 = 0, state: TaskState = .unknown
    ) {
        guard let ring = unretainedRing else { return }
        let record = TraceRecord(time: now, kind: kind, subject: subject, other: other, value: value, detail: detail, state: state)
        _ = ring._withUnsafeGuaranteedRef { $0.push(record) }
    }
}
