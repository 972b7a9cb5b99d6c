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
        let count = (nameCounts[name] ?? 0) + 1
        nameCounts[name] = count
        let displayName = name == "main" && count == 1 ? "main" : "\(name)#\(count)"
        let box = TaskBox(id: names.intern(displayName, kind: .task), name: displayName)
        let result = ResultBox<Value>()
        emit(.taskSpawned, subject: box.id, other: currentActor, state: .ready)
        // The runtime enqueues the first job right here (synchronously, on this thread).
        let handle = Task(name: displayName, executorPreference: self) { [unowned self] in
            await self.runBody(of: box, into: result, body)
        }
        let pointer = Self.taskIdentity(of: handle)
        box.pointer = pointer
        box.handle = handle
        tasksByPointer[pointer] = box
        liveTasks[box.id] = box
        emit(.taskReady, subject: box.id, other: currentActor, detail: ReadyCause.spawned.rawValue, state: .ready)
        return LoopTask(box: box, result: result, loop: self)
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
        return try tasks.map { try $0.result.result!.get() }
    }

    // MARK: - Internals

    /// The body every spawned task runs: the user's code, then its outcome recorded.
    nonisolated func runBody<Value: Sendable>(
        of box: TaskBox, into result: ResultBox<Value>, _ body: @Sendable () async throws -> Value
    ) async {
        do {
            // A task cancelled before its first slice ends at once, as in asyncio.
            if box.cancelRequested { throw CancelledError() }
            result.result = .success(try await body())
            box.outcome = .ok
        } catch {
            result.result = .failure(error)
            box.error = error
            box.outcome = (error is CancelledError || error is CancellationError) ? .cancelled : .error
        }
        box.finished = true
    }

    /// Suspends the current task in a loop primitive. `arm` registers the wake-up (a timer, a
    /// waiter entry) for the given generation; the slice then ends and the trace says why.
    nonisolated(nonsending) func suspendCurrentTask(
        _ reason: SuspendReason, waitingOn: EntityID = .none, deadline: Int64 = 0,
        arm: (TaskBox, UInt32) -> Void = { _, _ in }
    ) async throws {
        guard let box = current else {
            preconditionFailure("loop primitives must be awaited from a task running on this loop")
        }
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            box.waitGeneration &+= 1
            box.continuation = continuation
            box.suspendReason = reason
            box.waitingOn = waitingOn
            box.wakeDeadline = deadline
            arm(box, box.waitGeneration)
            if box.cancelRequested && reason != .yield {
                // Cancelled while running: the next suspension throws, as asyncio's _must_cancel.
                box.cancelRequested = false
                box.pendingError = CancelledError()
                makeReady(box, generation: box.waitGeneration, cause: .cancelled, waker: box.id)
            }
        }
    }

    /// Suspends the current task until every task in `children` is done, or one fails; returns
    /// the first that failed. `relayHops` extra passes match asyncio's wake-up path (gather: 1,
    /// awaiting a task: 0).
    @discardableResult
    nonisolated(nonsending) func awaitCompletion(of children: [TaskBox], relayHops: Int) async throws -> TaskBox? {
        if let failed = children.first(where: { $0.finished && $0.outcome != .ok }) { return failed }
        let pending = children.filter { !$0.finished }
        guard let firstPending = pending.first else { return nil }
        var wait: ChildrenWait?
        try await suspendCurrentTask(.children, waitingOn: firstPending.id) { parent, generation in
            let observer = ChildrenWait(parent: parent, generation: generation, relayHops: relayHops, children: pending)
            for child in pending { child.observers.append(observer) }
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
            box.pendingError = CancelledError()
            if box.resumeQueued { return true }  // it resumes soon anyway, and will throw
            makeReady(box, generation: box.waitGeneration, cause: .cancelled, waker: currentActor)
        } else {
            // Running, or not started yet: it throws at its next suspension (or first slice).
            box.cancelRequested = true
        }
        return true
    }

    /// The task's last slice ended: record it, forget its pointer, tell whoever awaits it.
    func finish(_ box: TaskBox) {
        box.state = .done
        emit(.taskDone, subject: box.id, detail: box.outcome.rawValue, state: .done)
        if let pointer = box.pointer { tasksByPointer[pointer] = nil }
        liveTasks[box.id] = nil
        let observers = box.observers
        box.observers = .none
        switch observers {
        case .none: break
        case .one(let observer): observer.taskFinished(box, loop: self)
        case .many(let all): for observer in all { observer.taskFinished(box, loop: self) }
        }
        box.handle = nil
    }
}
