#if canImport(Glibc)
import Glibc
#endif
import Trace

// MARK: - TaskExecutor

extension EventLoop {
    /// Called by the Swift runtime for every job of a task that prefers this loop: a new task's
    /// first slice, or a task resumed by something. On the loop thread the job joins the ready
    /// queue (or, while the loop itself resumes that task, runs at once); from any other thread
    /// it goes through the inbox and wakes the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unownedJob = UnownedJob(job)
        if isLoopThread {
            if capturingInlineJob && inlineJob == nil {
                inlineJob = unownedJob
                return
            }
            ready.append(.job(unownedJob))
            // A spawn's first job: its task is not in the table yet, and is ready already.
            if !spawning { noteRuntimeWakeup(of: unownedJob, cause: .runtime) }
        } else {
            post(.job(unownedJob))
        }
    }

    /// A job for a known task that the loop did not schedule itself: record that it is ready.
    func noteRuntimeWakeup(of job: UnownedJob, cause: ReadyCause) {
        let pointer = Self.taskIdentity(of: job)
        guard let box = liveTasks.box(for: pointer), box.state != .ready else { return }
        box.state = .ready
        emit(.taskReady, subject: box.id, detail: cause.rawValue, state: .ready)
    }

    // MARK: - Cross-thread inbox

    /// Queues work from another thread and wakes the loop if it is idle. Thread-safe.
    func post(_ item: InboxItem) {
        // A closed loop takes nothing more: its selector (and the wake-up) are gone.
        guard state != .closed else { return }
        inbox.withLock { $0.append(item) }
        inboxCount.add(1, ordering: .releasing)
        selector?.wakeup.signal()
    }

    /// Moves work posted by other threads into the ready queue, in the order it was posted.
    func takeInbox() {
        guard inboxCount.load(ordering: .acquiring) > 0 else { return }
        let items = inbox.withLock { items in
            defer { items.removeAll(keepingCapacity: true) }
            return items
        }
        inboxCount.subtract(items.count, ordering: .releasing)
        for item in items {
            switch item {
            case .job(let job):
                ready.append(.job(job))
                noteRuntimeWakeup(of: job, cause: .external)
            case .callback(let callback):
                callback.id = callbackID(callback.name)
                ready.append(.callback(callback))
                emit(.callbackQueued, subject: callback.id, detail: CallbackOrigin.external.rawValue)
            case .plumbing(let body):
                ready.append(.plumbing(body))
            }
        }
    }
}
