import CLoopSystem
import HeapModule
import Trace

// MARK: - Sleeping, callbacks, output, blocking

extension EventLoop {
    /// The loop's current time in seconds since it started.
    public var time: Double { Double(now) / 1e9 }

    /// Suspends the current task for `seconds` of loop time (asyncio's `sleep`). `sleep(0)` is a
    /// plain yield: the task goes to the back of the ready queue and runs again on the next pass.
    /// - Throws: ``CancelledError`` if the task is cancelled meanwhile.
    @inlinable
    public func sleep(_ seconds: Double) async throws {
        // Inlinable, with all of its work in one synchronous call: inlined into the caller's
        // body it has no async frame of its own to allocate and, returning, no executor hop
        // (one `swift_task_switch` and one preferred-executor lookup a sleep, out of three),
        // and nothing is held across the one suspension point, so a sleeping task's frames fit
        // in the task allocator's first slab.
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            parkCurrentTask(sleeping: seconds, continuation)
        }
    }

    /// Runs `body` on the next pass (asyncio's `call_soon`), FIFO with other ready work.
    /// `name` is what the trace and the schedule call it.
    @discardableResult
    public func callSoon(_ name: String, _ body: @escaping () -> Void) -> CallbackHandle {
        assertInLoop()
        let callback = CallbackBox(name: name, origin: .soon, body: body)
        callback.id = callbackID(name)
        ready.append(.callback(callback))
        emit(.callbackQueued, subject: callback.id, other: currentActor, detail: CallbackOrigin.soon.rawValue)
        return CallbackHandle(box: callback, loop: self)
    }

    /// Runs `body` once `delay` seconds of loop time have passed (asyncio's `call_later`);
    /// callbacks with equal deadlines run in the order they were scheduled.
    @discardableResult
    public func callLater(_ delay: Double, _ name: String, _ body: @escaping () -> Void) -> CallbackHandle {
        callAt(now + nanoseconds(max(0, delay)), name, body)
    }

    /// Runs `body` at loop time `deadline` (nanoseconds since the loop started).
    @discardableResult
    public func callAt(_ deadline: Int64, _ name: String, _ body: @escaping () -> Void) -> CallbackHandle {
        assertInLoop()
        let callback = CallbackBox(name: name, origin: .timer, body: body)
        callback.armed = true
        callback.id = callbackID(name)
        addTimer(deadline, .callback(callback))
        emit(.timerScheduled, subject: callback.id, other: currentActor, value: deadline, detail: TimerPurpose.callback.rawValue)
        return CallbackHandle(box: callback, loop: self)
    }

    /// Prints a line of the program's output through the loop, so the trace knows who printed
    /// what and when. It goes to ``onOutput``.
    public func print(_ line: String) {
        assertInLoop()
        let text = names.intern(line, kind: .text)
        emit(.output, subject: currentActor, value: Int64(text.rawValue))
        onOutput?(line, currentActor)
    }

    /// Holds the loop thread for `seconds` without yielding, like a synchronous call (`time.sleep`)
    /// inside a coroutine: nothing else runs meanwhile. On the virtual clock time jumps ahead.
    public func blockingCall(_ seconds: Double) {
        assertInLoop()
        clock.occupy(nanoseconds: nanoseconds(seconds))
        // What the task does next (prints, say) happens after the call: stamp it then.
        now = readClock()
    }

    /// A handle for other threads to schedule work on this loop; see ``RemoteHandle``.
    public func remoteHandle() -> RemoteHandle {
        RemoteHandle(loop: self)
    }

    // MARK: - Internals

    /// The loop time at the end of a step: off the CPU's counter once the step clock knows its
    /// rate, else from the clock.
    @inline(__always)
    func stepEnd() -> Int64 {
        if stepClock.isCalibrated, liveClock == nil || liveClock?.flowEpoch == stepClock.epoch,
           let time = stepClock.read(ticks: loopviz_ticks(), previous: now) {
            return time
        }
        // Never before the last step's end, which the counter may have put a little ahead.
        return readClock()
    }

    /// The clock's time, or the current step's when that is later: a step clock's interpolated
    /// time may run a few nanoseconds ahead of the clock (its rate's rounding), and records never
    /// go back in time.
    @inline(__always)
    func readClock() -> Int64 {
        max(now, clock.now())
    }

    /// A pass starts with a read of the real clock, which also anchors the step clock (the
    /// counter read on both sides of it, to tell a preempted read; a live clock's flow epoch
    /// on both sides, to tell a freeze or thaw meanwhile).
    func readClockAtPassStart() {
        guard stepClock.isEnabled else {
            now = clock.now()
            return
        }
        let epochBefore = liveClock.map { $0.flowEpoch } ?? 0
        let before = loopviz_ticks()
        let read = clock.now()
        let after = loopviz_ticks()
        let epochAfter = liveClock.map { $0.flowEpoch } ?? 0
        now = stepClock.anchor(read: read, previous: now, ticksBefore: before, ticksAfter: after,
                               epoch: epochBefore == epochAfter ? epochBefore : nil)
    }

    /// `sleep`'s suspension of the current task: `sleep(0)` is a plain yield; otherwise a timer
    /// wakes the task at the deadline.
    @usableFromInline
    func parkCurrentTask(sleeping seconds: Double, _ continuation: UnsafeContinuation<Void, any Error>) {
        assertInLoop("sleep(_:)")
        guard let task = current else {
            preconditionFailure("loop primitives must be awaited from a task running on this loop")
        }
        // Borrowed, not retained: the task table holds the box (see `current`).
        task._withUnsafeGuaranteedRef { box in
            assertRunning(box)
            if seconds <= 0 {
                park(box, continuation, .yield)
            } else {
                park(box, sleeping: seconds, continuation)
            }
        }
    }

    private func park(_ box: TaskBox, sleeping seconds: Double, _ continuation: UnsafeContinuation<Void, any Error>) {
        let deadline = now + nanoseconds(seconds)
        park(box, continuation, .sleep, value: deadline)
        addTimer(deadline, .wake(box, generation: box.waitGeneration))
        emit(.timerScheduled, subject: box.id, value: deadline, detail: TimerPurpose.sleep.rawValue)
        cancelIfRequested(box)
    }

    func addTimer(_ deadline: Int64, _ action: TimerEntry.Action) {
        if timerSequence >= timerSequenceLimit { renumberTimers() }
        timerSequence += 1
        timers.insert(TimerEntry(deadline: deadline, action: action, sequence: timerSequence))
    }

    /// Numbers the timers in the heap 1, 2, … in their (deadline, sequence) order, so that the
    /// 32-bit sequence never wraps: the order, FIFO among equal deadlines included, stays as it
    /// was. O(timers · log timers), once per four billion timers scheduled.
    func renumberTimers() {
        var entries = timers.unordered.sorted()
        for index in entries.indices { entries[index].sequence = UInt32(index + 1) }
        timers = Heap(entries)
        timerSequence = UInt32(entries.count)
    }

    /// One name-table entry per callback name, so repeated callbacks share a lane.
    func callbackID(_ name: String) -> EntityID {
        if let id = callbackIDs[name] { return id }
        let id = names.intern(name, kind: .callback)
        callbackIDs[name] = id
        return id
    }

    /// A new entity for a primitive, numbered per kind: `Event#1`, `Lock#2`.
    func primitiveID(_ kind: String) -> EntityID {
        assertInLoop()
        let count = (primitiveCounts[kind] ?? 0) + 1
        primitiveCounts[kind] = count
        return names.intern("\(kind)#\(count)", kind: kind == "Event" ? .event : .primitive)
    }

    func nanoseconds(_ seconds: Double) -> Int64 {
        Int64((seconds * 1e9).rounded())
    }
}

/// Lets other threads schedule callbacks on a loop (asyncio's `call_soon_threadsafe`). While a
/// handle is open the loop does not report a deadlock: work may still come through it.
public final class RemoteHandle: Sendable {
    private let loop: EventLoop

    init(loop: EventLoop) {
        self.loop = loop
        loop.remoteHolds.add(1, ordering: .releasing)
    }

    deinit { loop.remoteHolds.subtract(1, ordering: .releasing) }

    /// Queues `body` to run on the loop thread on its next pass and wakes the loop. Thread-safe.
    public func callSoon(_ name: String, _ body: @escaping @Sendable () -> Void) {
        loop.post(.callback(CallbackBox(name: name, origin: .external, body: body)))
    }
}
