#if canImport(Glibc)
import Glibc
#endif
import DequeModule
import HeapModule
import Synchronization
import Trace

/// A single-thread event loop in the style of asyncio's `BaseEventLoop`, running real Swift
/// `async` code: it is the `TaskExecutor` of every task it spawns, so their slices run here,
/// one at a time, on the thread that called ``run(_:_:)``.
///
/// Everything but the cross-thread entry points (``RemoteHandle``, the runtime's `enqueue`
/// from another thread) must be used on the loop thread, from tasks and callbacks it runs.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    /// The loop's time source: ``RealClock`` or ``VirtualClock``.
    public let clock: any LoopClock
    /// Names of tasks, callbacks, primitives and output lines, referenced by trace records.
    public let names: NameTable
    /// Where the trace goes; nil runs the loop untraced.
    public let ring: TraceRing?
    /// When set, asked before every scheduling step (task slice, timer fire, callback); it may
    /// block the loop thread, which is how step-through mode works.
    public var stepGate: (any StepGate)?
    /// Receives each line the program prints through ``print(_:)``, with who printed it.
    public var onOutput: ((String, EntityID) -> Void)?

    // MARK: - Loop-thread state
    //
    // The hot fields are `@exclusivity(unchecked)`: only the loop thread touches them, never
    // through overlapping accesses, and the runtime's dynamic exclusivity bookkeeping showed up
    // in the profile of every task switch.

    @exclusivity(unchecked) var ready = Deque<ReadyItem>()
    var timers = Heap<TimerEntry>()
    var timerSequence: UInt64 = 0
    /// Tasks by the pointer their runtime jobs carry.
    var tasksByPointer: [UnsafeRawPointer: TaskBox] = [:]
    /// Tasks not finished yet, by id (for deadlock reports and asyncio.run's final clean-up).
    var liveTasks: [EntityID: TaskBox] = [:]
    /// Per coroutine name, how many tasks had it: `count#1`, `count#2`, ...
    var nameCounts: [String: Int] = [:]
    var callbackIDs: [String: EntityID] = [:]
    var primitiveCounts: [String: Int] = [:]
    /// The task whose slice is running, if any.
    @exclusivity(unchecked) var current: TaskBox?
    /// Who is running now (a task or a callback): the "who" of records made meanwhile.
    @exclusivity(unchecked) var currentActor: EntityID = .none
    /// The loop time of the current step: one clock read serves every record the step writes.
    @exclusivity(unchecked) var now: Int64 = 0
    /// While the loop resumes a continuation, the runtime's synchronous `enqueue` of that task's
    /// job is caught here and the job runs at once, in the same pass, instead of a pass later.
    @exclusivity(unchecked) var capturingInlineJob = false
    @exclusivity(unchecked) var inlineJob: UnownedJob?
    var loopThread: pthread_t?

    // MARK: - Cross-thread state

    let inbox = Mutex<[InboxItem]>([])
    let inboxCount = Atomic<Int>(0)
    let remoteHolds = Atomic<Int>(0)
    let wakeup = Wakeup()

    /// - Parameters:
    ///   - clock: the time source (``VirtualClock`` for tests and step mode).
    ///   - ring: where trace records go (nil: untraced).
    ///   - names: the name table records refer to.
    public init(clock: any LoopClock = RealClock(), ring: TraceRing? = nil, names: NameTable = NameTable()) {
        self.clock = clock
        self.ring = ring
        self.names = names
    }

    // MARK: - Running

    /// Runs `body` as the root task (named `main` by default) until it finishes, then cancels
    /// and finishes whatever tasks are left, as `asyncio.run` does. Blocks the calling thread,
    /// which becomes the loop thread.
    /// - Throws: the root task's error, or ``LoopError/deadlock(stuck:)`` when nothing can run.
    public func run<Value: Sendable>(
        _ name: String = "main", _ body: @escaping @Sendable () async throws -> Value
    ) throws -> Value {
        precondition(loopThread == nil, "an EventLoop runs once")
        loopThread = pthread_self()
        now = clock.now()
        let root = spawn(name, body)
        do {
            while !root.box.finished { try runOnce() }
            try finishLeftoverTasks()
        } catch {
            emit(.runFinished, subject: .none, detail: RunOutcome.deadlock.rawValue)
            throw error
        }
        let result = root.result.result!
        let outcome: RunOutcome = if case .success = result { .ok } else { .error }
        emit(.runFinished, subject: root.id, detail: outcome.rawValue)
        return try result.get()
    }

    /// One iteration, as asyncio's `_run_once`: take work from other threads; when nothing is
    /// ready, wait for the next deadline (or a wake-up); move due timers to the ready queue;
    /// then run exactly the items that were ready when the pass began (what they schedule
    /// waits a turn).
    func runOnce() throws {
        takeInbox()
        if ready.isEmpty {
            dropDeadTimers()
            let deadline = timers.min?.deadline
            if deadline == nil && !mayGetWorkFromOutside() {
                throw LoopError.deadlock(stuck: stuckTasks())
            }
            emit(.loopIdle, subject: .none, value: deadline ?? -1)
            if wakeup.prepareToWait(hasWork: { inboxCount.load(ordering: .acquiring) > 0 }) {
                clock.idle(until: deadline, wakeup: wakeup)
            }
            now = clock.now()
            takeInbox()
        }
        while let first = timers.min, first.deadline <= now {
            timers.removeMin()
            switch first.action {
            case .wake(let box, let generation) where box.isWaiting(generation: generation):
                ready.append(.sleepTimer(box, generation: generation))
            case .callback(let callback) where !callback.cancelled:
                ready.append(.callback(callback))
            default:
                break  // cancelled meanwhile
            }
        }
        var todo = ready.count
        while todo > 0, let item = ready.popFirst() {
            todo -= 1
            dispatch(item)
        }
    }

    // MARK: - The one place that runs work

    /// Runs one ready item. Every task slice, timer fire and callback goes through here, and so
    /// does every trace record about them.
    func dispatch(_ item: ReadyItem) {
        switch item {
        case .resume(let box, let generation):
            guard box.isWaiting(generation: generation) else { return }
            askGate(.taskSlice, box.id)
            runSlice(box) {
                let continuation = box.continuation!
                box.continuation = nil
                capturingInlineJob = true
                if let error = box.pendingError {
                    box.pendingError = nil
                    continuation.resume(throwing: error)
                } else {
                    continuation.resume()
                }
                capturingInlineJob = false
                if let job = inlineJob {
                    inlineJob = nil
                    job.runSynchronously(on: asUnownedTaskExecutor())
                }
            }
        case .job(let job):
            let pointer = unsafeBitCast(job, to: UnsafeRawPointer.self)
            if let box = tasksByPointer[pointer] {
                askGate(.taskSlice, box.id)
                runSlice(box) { job.runSynchronously(on: asUnownedTaskExecutor()) }
            } else {
                // Not one of our tasks (the runtime's own plumbing): run it, nothing to trace.
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
        case .relay(let box, let generation, let waker):
            guard box.isWaiting(generation: generation) else { return }
            makeReady(box, generation: generation, cause: .childDone, waker: waker)
        case .sleepTimer(let box, let generation):
            guard box.isWaiting(generation: generation) else { return }
            askGate(.timerFire, box.id)
            emit(.timerFired, subject: box.id, state: box.state)
            makeReady(box, generation: generation, cause: .timer, waker: .none)
        case .callback(let callback):
            guard !callback.cancelled else { return }
            askGate(.callback, callback.id)
            emit(.callbackStarted, subject: callback.id, detail: callback.origin.rawValue)
            currentActor = callback.id
            callback.body()
            currentActor = .none
            now = clock.now()
            emit(.callbackFinished, subject: callback.id)
        }
    }

    /// Runs one slice of `box` and records how it ended.
    @inline(__always)
    private func runSlice(_ box: TaskBox, _ body: () -> Void) {
        box.state = .running
        box.suspendReason = .other
        box.waitingOn = .none
        box.resumeQueued = false
        emit(.taskResumed, subject: box.id, state: .running)
        current = box
        currentActor = box.id
        body()
        current = nil
        currentActor = .none
        now = clock.now()
        if box.finished {
            finish(box)
        } else {
            // A yield leaves the task ready at once: its suspension record says so (state
            // ready), and no separate taskReady follows — a third fewer records on a busy loop.
            let yielded = box.suspendReason == .yield
            box.state = yielded ? .ready : box.suspendReason.taskState
            emit(.taskSuspended, subject: box.id, other: box.waitingOn, value: box.wakeDeadline,
                 detail: box.suspendReason.rawValue, state: box.state)
            if yielded {
                makeReady(box, generation: box.waitGeneration, cause: .yielded, waker: box.id, traced: false)
            }
        }
    }

    @inline(__always)
    private func askGate(_ kind: StepPreview.Kind, _ subject: EntityID) {
        guard let stepGate else { return }
        stepGate.beforeStep(StepPreview(kind: kind, subject: subject, time: now))
        now = clock.now()
    }

    /// Writes one trace record stamped with the current step's time. The only writer of the ring.
    @inline(__always)
    func emit(
        _ kind: TraceKind, subject: EntityID, other: EntityID = .none, value: Int64 = 0,
        detail: UInt8 = 0, state: TaskState = .unknown
    ) {
        guard let ring else { return }
        ring.push(TraceRecord(time: now, kind: kind, subject: subject, other: other, value: value, detail: detail, state: state))
    }

    // MARK: - Waking tasks

    /// Queues the resumption of a task suspended in a primitive and records why.
    func makeReady(
        _ box: TaskBox, generation: UInt32, cause: ReadyCause, waker: EntityID, via: EntityID = .none, traced: Bool = true
    ) {
        guard !box.resumeQueued else { return }
        box.resumeQueued = true
        box.state = .ready
        ready.append(.resume(box, generation: generation))
        if traced {
            emit(.taskReady, subject: box.id, other: waker, value: Int64(via.rawValue), detail: cause.rawValue, state: .ready)
        }
    }

    // MARK: - Idle and deadlock

    private func dropDeadTimers() {
        while let first = timers.min, !first.isLive { timers.removeMin() }
    }

    /// Whether some other thread may still hand the loop work: a live ``RemoteHandle``, queued
    /// cross-thread work, or a task suspended on something that is not one of the loop's
    /// primitives (its resumption would arrive through the runtime).
    private func mayGetWorkFromOutside() -> Bool {
        remoteHolds.load(ordering: .acquiring) > 0 || inboxCount.load(ordering: .acquiring) > 0
            || liveTasks.values.contains { $0.continuation == nil && !$0.resumeQueued && $0.state != .ready }
    }

    private func stuckTasks() -> [LoopError.StuckTask] {
        liveTasks.values.sorted { $0.id < $1.id }.map { box in
            let what = box.waitingOn == .none ? box.suspendReason.words : "\(box.suspendReason.words) \(names.name(box.waitingOn))"
            return LoopError.StuckTask(name: box.name, waitingFor: what)
        }
    }

    /// asyncio.run cancels the tasks the root left behind and lets them finish.
    private func finishLeftoverTasks() throws {
        guard !liveTasks.isEmpty else { return }
        for box in liveTasks.values.sorted(by: { $0.id < $1.id }) { _ = cancel(box) }
        while !liveTasks.isEmpty { try runOnce() }
    }
}
