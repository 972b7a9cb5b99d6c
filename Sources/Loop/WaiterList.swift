import DequeModule
import Trace

/// Tasks suspended on a primitive, in the order they started waiting: the futures list of an
/// asyncio lock, semaphore or queue. A class, so a waiting task and the primitive that wakes it
/// share one list. Loop thread only.
final class WaiterList {
    struct Entry {
        let box: TaskBox
        let generation: UInt32
        /// Made ready by the primitive and not yet run (asyncio: the future is done).
        var woken = false

        /// Cancelled while waiting (asyncio: the future was cancelled).
        var isCancelled: Bool {
            !woken && (box.resumeWithCancellation || !box.isWaiting(generation: generation))
        }
    }

    private(set) var entries = Deque<Entry>()

    var isEmpty: Bool { entries.isEmpty }

    /// Whether someone waits and was not cancelled (asyncio's `any(not w.cancelled() ...)`).
    var hasLiveWaiter: Bool { entries.contains { !$0.isCancelled } }

    func append(_ box: TaskBox, generation: UInt32) {
        entries.append(Entry(box: box, generation: generation))
    }

    /// Removes `box`'s entry and returns it, if it is there (a waiter leaving). O(waiters).
    @discardableResult
    func remove(_ box: TaskBox) -> Entry? {
        guard let index = entries.firstIndex(where: { $0.box === box }) else { return nil }
        return entries.remove(at: index)
    }

    /// Wakes the first waiter if it is still waiting (asyncio's `Lock._wake_up_first`): an
    /// entry already woken or cancelled blocks the line until it has run.
    func wakeFirst(on loop: EventLoop, via primitive: EntityID) {
        guard let first = entries.first, !first.woken, !first.isCancelled else { return }
        entries[entries.startIndex].woken = true
        loop.makeReady(first.box, generation: first.generation, cause: .released, waker: loop.currentActor, via: primitive)
    }

    /// Wakes the first waiter that is still waiting, skipping woken and cancelled ones
    /// (asyncio's `Semaphore._wake_up_next`). Returns the task it woke, if any.
    @discardableResult
    func wakeNext(on loop: EventLoop, via primitive: EntityID) -> EntityID? {
        guard let index = entries.firstIndex(where: { !$0.woken && !$0.isCancelled }) else { return nil }
        entries[index].woken = true
        let entry = entries[index]
        loop.makeReady(entry.box, generation: entry.generation, cause: .released, waker: loop.currentActor, via: primitive)
        return entry.box.id
    }

    /// Removes and wakes the first waiter still waiting (asyncio's `Queue._wakeup_next`, which
    /// pops waiters as it goes).
    func popAndWakeNext(on loop: EventLoop, via primitive: EntityID) {
        while let entry = entries.popFirst() {
            if entry.woken || entry.isCancelled { continue }
            loop.makeReady(entry.box, generation: entry.generation, cause: .released, waker: loop.currentActor, via: primitive)
            return
        }
    }
}

extension EventLoop {
    /// Suspends the current task at the back of `line` until a primitive wakes it: the one wait
    /// of Lock, Semaphore and Queue. If the task is cancelled meanwhile it leaves the line,
    /// `onCancel` learns whether it had been woken already (its turn must then be passed on, as
    /// asyncio does), and the cancellation is rethrown.
    nonisolated(nonsending) func waitInLine(
        _ line: WaiterList, on primitive: EntityID, onCancel: (_ wasWoken: Bool) -> Void
    ) async throws {
        let box = currentTask
        do {
            try await suspendCurrentTask(.primitive, waitingOn: primitive) { box, generation in
                line.append(box, generation: generation)
            }
            line.remove(box)
        } catch {
            // Not in the line any more: a Queue pops the waiter it wakes.
            onCancel(line.remove(box)?.woken ?? true)
            throw error
        }
    }

    /// The task running now; primitives are awaited only from tasks on this loop.
    var currentTask: TaskBox {
        guard let current else { preconditionFailure("loop primitives must be awaited from a task running on this loop") }
        return current.takeUnretainedValue()
    }
}
