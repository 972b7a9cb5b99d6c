import CLoopSystem
import HeapModule
import Trace

// MARK: - Idle, deadlock and the end of a run

extension EventLoop {
    /// A burst (a hundred thousand tasks spawned at once) leaves the ready queue's storage that
    /// large: once the queue is small again, its items move to storage of their size, as
    /// CPython's deque frees its blocks as it empties.
    func releaseReadyQueueStorage() {
        guard ready.capacity > Self.readyQueueKeptCapacity && ready.count < ready.capacity / 16 else { return }
        let kept = max(ReadyQueue.fittingCapacity(ready.count), Self.readyQueueKeptCapacity)
        let releasedBytes = (ready.capacity - kept) * MemoryLayout<ReadyItem>.stride
        ready.resize(to: kept)
        #if canImport(Glibc)
        // glibc keeps a freed block this large at the top of its heap (its trim threshold rises
        // with the blocks freed), so the process would stay that much larger: give the burst's
        // memory back to the system, as CPython's allocator frees its empty arenas. Only after a
        // large burst (≥ 1 MB of queue storage), so it stays rare.
        if releasedBytes >= Self.trimAfterReleasing { _ = malloc_trim(0) }
        #endif
    }

    /// Bytes of ready-queue storage released at once after which the loop asks glibc to return
    /// free memory to the system.
    static let trimAfterReleasing = 1 << 20

    /// Ready items whose storage the queue keeps however it shrinks (a few pages; a power of
    /// two, as every capacity of the queue).
    static let readyQueueKeptCapacity = 4096

    /// Drops cancelled timers at the head of the heap; rebuilds the heap without the dead ones
    /// when they are more than half of it (asyncio's `_run_once` does both).
    func dropDeadTimers() {
        if timers.count > 100 && deadTimerCount * 2 > timers.count {
            timers = Heap(timers.unordered.filter(\.isLive))
            deadTimerCount = 0
        }
        while let first = timers.min, !first.isLive {
            timers.removeMin()
            deadTimerCount = max(0, deadTimerCount - 1)
        }
    }

    /// Whether work may still come from outside: a watched fd, a live ``RemoteHandle``, queued
    /// cross-thread work, or a task suspended on something that is not one of the loop's
    /// primitives (its resumption would arrive through the runtime).
    func mayGetWorkFromOutside() -> Bool {
        !ioRegistrations.isEmpty || pendingResolutions > 0 || remoteHolds.load(ordering: .acquiring) > 0 || inboxCount.load(ordering: .acquiring) > 0
            || liveTasks.boxes.contains { $0.continuation == nil && !$0.resumeQueued && $0.state != .ready }
    }

    func stuckTasks() -> [LoopError.StuckTask] {
        liveTasks.boxes.sorted { $0.id < $1.id }.map { box in
            let what = box.waitingOn == .none ? box.suspendReason.words : "\(box.suspendReason.words) \(names.name(box.waitingOn))"
            return LoopError.StuckTask(name: names.name(box.id), waitingFor: what)
        }
    }

    /// asyncio.run cancels the tasks the root left behind and lets them finish.
    func finishLeftoverTasks() throws {
        guard !liveTasks.isEmpty else { return }
        for box in liveTasks.boxes.sorted(by: { $0.id < $1.id }) { _ = cancel(box) }
        while !liveTasks.isEmpty { try runOnce() }
    }

    /// After ``stop()``: every task is cancelled and gets a bounded number of passes, without
    /// waiting for time or I/O, to run its clean-up. What is still not done then is left.
    func windDown() throws {
        for box in liveTasks.boxes.sorted(by: { $0.id < $1.id }) { _ = cancel(box) }
        var passes = 0
        while !liveTasks.isEmpty && passes < 100 {
            try runOnce(stopping: true)
            passes += 1
        }
        closeOpenSockets()
    }
}
