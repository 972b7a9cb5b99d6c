import Trace

// MARK: - Who is told when a task finishes

/// Told on the loop thread right after a task's last slice (gather, awaiting a task, a server's
/// done-callback on a connection handler).
class CompletionObserver {
    func taskFinished(_ task: TaskBox, loop: EventLoop) {}
}

/// A done-callback as a closure: for the rare observer that is not a waiting task.
final class ClosureObserver: CompletionObserver {
    private let body: (TaskBox) -> Void
    init(_ body: @escaping (TaskBox) -> Void) { self.body = body }
    override func taskFinished(_ task: TaskBox, loop: EventLoop) { body(task) }
}

/// A task's observers. Nearly every task has none or one (its gather), so one is kept inline and
/// an array exists only beyond that: no allocation per child of a gather. One word per task
/// that has any, in ``EventLoop/observers``.
enum ObserverList {
    case none
    case one(CompletionObserver)
    case many([CompletionObserver])

    mutating func append(_ observer: CompletionObserver) {
        switch self {
        case .none: self = .one(observer)
        case .one(let first): self = .many([first, observer])
        case .many(var all):
            self = .none  // drop the reference, so the append below does not copy the array
            all.append(observer)
            self = .many(all)
        }
    }
}

// MARK: - A task waiting for its children

/// One `gather` (or `await task`, or `waitFor`): the waiting parent and the children it waits
/// for. A single object registered with every child, instead of a closure per child; the children
/// finish in any order, and each tells it.
final class ChildrenWait: CompletionObserver {
    let parent: TaskBox
    /// The parent's suspension this wait belongs to: a child finishing after the parent moved on
    /// (cancelled, timed out) changes nothing.
    let generation: UInt32
    /// Extra passes before the parent is ready, to match asyncio's wake-up path (gather: 1).
    let relayHops: Int
    /// The children not finished when the wait began, in the order given.
    let children: [TaskBox]
    var remaining: Int
    /// Every child before this index has finished: the next one the parent is said to await is
    /// sought from here, so naming it costs O(children) over the whole wait, not per child.
    var cursor = 0
    /// The first child that failed, if any.
    var failed: TaskBox?

    init(parent: TaskBox, generation: UInt32, relayHops: Int, children: [TaskBox]) {
        self.parent = parent
        self.generation = generation
        self.relayHops = relayHops
        self.children = children
        remaining = children.count
    }

    override func taskFinished(_ child: TaskBox, loop: EventLoop) {
        guard parent.isWaiting(generation: generation) else { return }
        remaining -= 1
        if child.outcome != .ok { failed = child }
        guard remaining == 0 || child.outcome != .ok else {
            // Still awaiting others: say which, so nobody reads that it awaits a task that has
            // finished.
            if parent.waitingOn == child.id {
                while cursor < children.count && children[cursor].finished { cursor += 1 }
                if cursor < children.count { loop.awaitNext(children[cursor], parent: parent, remaining: remaining) }
            }
            return
        }
        if relayHops > 0 {
            loop.ready.append(.relay(parent, generation: generation, waker: child.id))
            loop.emit(.relayQueued, subject: parent.id, other: child.id)
        } else {
            loop.makeReady(parent, generation: generation, cause: .childDone, waker: child.id)
        }
    }
}

extension EventLoop {
    /// `parent`, still waiting for its children, now awaits `next`: a new suspension as far as
    /// the trace and the snapshot's order of waiters go.
    func awaitNext(_ next: TaskBox, parent: TaskBox, remaining: Int) {
        parent.waitingOn = next.id
        #if DEBUG
        suspensionCount &+= 1
        parent.suspendedAt = suspensionCount
        #endif
        emit(.awaitNext, subject: parent.id, other: next.id, value: Int64(remaining), state: .awaitingChildren)
    }
}
