import Trace

// MARK: - Tasks: spawn, await, gather, cancel

extension EventLoop {
    /// Creates a task running `body` on this loop (asyncio's `create_task`). It is ready at once
    /// and first runs on the next pass. `name` is the coroutine's name; the task is called
    /// `name#N` (numbered per name in creation order), except the root `main`.
    /// Call on the loop thread. O(1).
    public func spawn<Value: Sendable>(
        _ name: String, _ body: @escaping @Sendable () async throws -> Value
    ) -> LoopTask<Value> {
        precondition(isLoopThread, "spawn must be called on the loop thread")
        assertInLoop()
        let count = Self.increment(&nameCounts[name, default: 0])
        // `name#count` is put together when someone reads it, not here.
        let box = TaskBoxOf(id: names.intern(name, number: name == "main" && count == 1 ? 0 : count, kind: .task), body: body)
        emit(.taskSpawned, subject: box.id, other: currentActor, state: .ready)
        // The runtime enqueues the first job right here (synchronously, on this thread). The
        // entry point captures nothing (no closure context per task) and no Swift task name is
        // set (the runtime would copy it into an allocation of its own): the box has both.
        spawning = true
        box.pointer = startTask()
        spawning = false
        liveTasks.insert(box)
        emit(.taskReady, subject: box.id, other: currentActor, detail: ReadyCause.spawned.rawValue, state: .ready)
        return LoopTask(box: box, loop: self)
    }

    /// Waits for every task and returns their values in the order given (asyncio's `gather`).
    /// The first task to fail makes `gather` throw its error (the others keep running); if the
    /// caller is cancelled, the tasks are cancelled too.
    nonisolated(nonsending) public func gather<Value: Sendable>(_ tasks: [LoopTask<Value>]) async throws -> [Value] {
        let failed: TaskBox?
        do {
            failed = try await awaitCompletion(of: tasks.map { $0.box }, relayHops: 1)
        } catch let error as CancelledError {
            for task in tasks { task.cancel() }
            throw error
        }
        if let failed, let error = failed.error { throw error }
        return try tasks.map { try $0.box.result!.get() }
    }

    // MARK: - Internals

    /// One dictionary access for a counter: `increment(&counts[key, default: 0])`.
    private static func increment(_ counter: inout Int) -> Int {
        counter += 1
        return counter
    }

    /// Creates the Swift task of a spawn and returns its identity. Not generic, so that the entry
    /// point is a plain function value: from a generic function it would be a closure capturing
    /// the generic context, an allocation per task.
    private func startTask() -> UnsafeRawPointer {
        Self.taskIdentity(of: Task(executorPreference: self) { await EventLoop.taskEntry() })
    }

    /// Every spawned task's entry point. The loop runs a task's first slice as any other, with
    /// its box as `current`: that is how the task finds it, capturing nothing.
    @Sendable static func taskEntry() async {
        guard let loop = LoopThreadLocal.loop, let box = loop.current?.takeUnretainedValue() else {
            preconditionFailure("a loop task started outside its loop's slice")
        }
        await box.runBody()
    }

    /// Suspends the current task in a loop primitive. `arm` registers the wake-up (a timer, a
    /// waiter entry) for the given generation; the slice then ends and the trace says why.
    nonisolated(nonsending) func suspendCurrentTask(
        _ reason: SuspendReason, waitingOn: EntityID = .none, deadline: Int64 = 0,
        arm: (TaskBox, UInt32) -> Void = { _, _ in }
    ) async throws {
        guard let box = current?.takeUnretainedValue() else {
            preconditionFailure("loop primitives must be awaited from a task running on this loop")
        }
        assertRunning(box)
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            park(box, continuation, reason, waitingOn: waitingOn, value: deadline)
            arm(box, box.waitGeneration)
            cancelIfRequested(box)
        }
    }

    /// The first half of every suspension, inside the continuation's closure: a new generation,
    /// the continuation, and why (`value` is what the `taskSuspended` record carries: a
    /// deadline, an I/O operation).
    @inline(__always)
    func park(_ box: TaskBox, _ continuation: UnsafeContinuation<Void, any Error>, _ reason: SuspendReason,
              waitingOn: EntityID = .none, value: Int64 = 0) {
        box.waitGeneration &+= 1
        box.continuation = continuation
        box.suspendReason = reason
        box.waitingOn = waitingOn
        suspensionValue = value
    }

    /// Queues the resumption of a task suspended in a primitive and records why.
    func makeReady(
        _ box: TaskBox, generation: UInt32, cause: ReadyCause, waker: EntityID, via: EntityID = .none, traced: Bool = true
    ) {
        // A stale wake-up (the task moved on: cancelled, woken otherwise) must not mark the task
        // queued, or its real wake-up would be ignored.
        guard !box.resumeQueued, box.isWaiting(generation: generation) else { return }
        box.resumeQueued = true
        box.state = .ready
        ready.append(.resume(Unmanaged.passUnretained(box), generation: generation))
        if traced {
            emit(.taskReady, subject: box.id, other: waker, value: Int64(via.rawValue), detail: cause.rawValue, state: .ready)
        }
    }

    /// The last half, once the wake-up is armed: a task cancelled while it ran throws at this
    /// suspension, as asyncio's `_must_cancel` (a yield does not count).
    @inline(__always)
    func cancelIfRequested(_ box: TaskBox) {
        guard box.cancelRequested && box.suspendReason != .yield else { return }
        box.cancelRequested = false
        box.resumeWithCancellation = true
        makeReady(box, generation: box.waitGeneration, cause: .cancelled, waker: box.id)
    }

    /// Suspends the current task until every task in `children` is done, or one fails; returns
    /// the first that failed. `relayHops` extra passes match asyncio's wake-up path (gather: 1,
    /// awaiting a task: 0).
    @discardableResult
    nonisolated(nonsending) func awaitCompletion(of children: [TaskBox], relayHops: Int) async throws -> TaskBox? {
        // Before the fast paths: with every child done, nothing below would check the thread.
        assertInLoop()
        if let failed = children.first(where: { $0.finished && $0.outcome != .ok }) { return failed }
        let pending = children.filter { !$0.finished }
        guard let firstPending = pending.first else { return nil }
        var wait: ChildrenWait?
        try await suspendCurrentTask(.children, waitingOn: firstPending.id) { parent, generation in
            let observer = ChildrenWait(parent: parent, generation: generation, relayHops: relayHops, children: pending)
            for child in pending { observe(child, observer) }
            wait = observer
        }
        return wait?.failed
    }

    /// See ``LoopTask/cancel()``.
    func cancel(_ box: TaskBox) -> Bool {
        assertInLoop()
        guard !box.finished else { return false }
        if box.suspendReason == .sleep && box.continuation != nil && !box.resumeQueued && box.state == .sleeping {
            deadTimerCount += 1
            emit(.timerCancelled, subject: box.id, detail: TimerPurpose.sleep.rawValue)
        }
        if box.continuation != nil && box.state != .running {
            box.resumeWithCancellation = true
            if box.resumeQueued { return true }  // it resumes soon anyway, and will throw
            makeReady(box, generation: box.waitGeneration, cause: .cancelled, waker: currentActor)
        } else {
            // Running, or not started yet: it throws at its next suspension (or first slice).
            box.cancelRequested = true
        }
        return true
    }

    /// `observer` is told when `box` finishes (right after its last slice, on the loop thread).
    func observe(_ box: TaskBox, _ observer: CompletionObserver) {
        observers[box.id, default: .none].append(observer)
        box.hasObservers = true
    }

    /// The task's last slice ended: record it, forget its pointer, tell whoever awaits it.
    /// The table's reference, perhaps the last, stays in ``finishedInPass`` until the pass ends.
    func finish(_ box: TaskBox) {
        // Nothing may still point at the box unretained: no queued resumption, no parked
        // continuation (a task parked in another loop's primitive, say, would leave one).
        assert(!box.resumeQueued && box.continuation == nil, "a task ended while parked in a loop primitive")
        box.state = .done
        emit(.taskDone, subject: box.id, detail: box.outcome.rawValue, state: .done)
        finishedInPass = liveTasks.remove(box)
        guard box.hasObservers else { return }
        box.hasObservers = false
        switch observers.removeValue(forKey: box.id) ?? .none {
        case .none: break
        case .one(let observer): observer.taskFinished(box, loop: self)
        case .many(let all): for observer in all { observer.taskFinished(box, loop: self) }
        }
    }
}
